"""The student's file runs as Python runs a module: registered under a fixed name, its own __file__, no demo block."""

from __future__ import annotations

from pathlib import Path

from grader.sandbox.parent import Sandbox


def test_a_data_file_next_to_the_submission_is_found_through_file(tmp_path):
    (tmp_path / "weights.txt").write_text("3 4 5\n")
    source = ("from pathlib import Path\n"
              "NUMBERS = [int(n) for n in (Path(__file__).parent / 'weights.txt').read_text().split()]\n"
              "def numbers():\n    return NUMBERS\n")
    with Sandbox(source, str(tmp_path / "exercise2.py")) as sandbox:
        assert sandbox.call("numbers") == [3, 4, 5]


def test_the_module_is_registered_and_not_main(tmp_path):
    source = ("import sys\n"
              "ran = []\n"
              "if __name__ == '__main__':\n    ran.append('demo')\n"
              "def where():\n    return [__name__, sys.modules[__name__].__dict__ is globals(), ran]\n")
    with Sandbox(source, str(tmp_path / "exercise1.py")) as sandbox:
        assert sandbox.call("where") == ["submission", True, []]


def test_a_frozen_dataclass_at_module_level_loads():
    source = ("from dataclasses import dataclass\n@dataclass(frozen=True)\nclass P:\n    x: int\n"
              "def make():\n    return P(2).x\n")
    with Sandbox(source, str(Path("x.py").resolve())) as sandbox:
        assert sandbox.call("make") == 2
