"""Start-up: commands that grade nothing import neither torch nor numpy; `list` shows the checks' real points."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap

import pytest

import importlib.util
from pathlib import Path

from grader.grading.exercises import EXERCISES
from grader.grading.registry import checks_of, declared_checks
from tests.conftest import course_folder

HEAVY = ("torch", "numpy")

# Run in a fresh interpreter: this test process has long imported torch and numpy.
PROBE = textwrap.dedent("""
    import json, sys
    from click.testing import CliRunner
    from grader.cli import cli
    result = CliRunner().invoke(cli, sys.argv[1:], prog_name="cnn-grade")
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
    print(json.dumps({{"exit": result.exit_code, "output": result.output, "heavy": heavy}}))
""").format(heavy=set(HEAVY))


def probe(args: list[str], cwd, env=None) -> dict:
    """Invoke the CLI with `args` in a new interpreter; its exit code, output and the heavy modules it imported."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture
def course(tmp_path):
    """A course folder: exercise1 a stub, exercise2 edited with a remembered score, exercise3 a notebook stub."""
    folder = course_folder(tmp_path, "exercises/exercise1.py", "exercises/exercise2.py", "exercises/exercise3.ipynb")
    edited = folder / "exercises" / "exercise2.py"
    edited.write_text(edited.read_text() + "\n# my work\n")
    return folder


@pytest.mark.parametrize("args, shown", [
    (["--help"], "exercise5"),
    (["exercise1", "--help"], "--file"),
    (["conv2d", "--help"], "--watch"),
    (["show", "exercise1"], "conv2d"),
])
def test_help_and_show_import_neither_torch_nor_numpy(args, shown, tmp_path):
    seen = probe(args, cwd=tmp_path)
    assert seen["exit"] == 0, seen["output"]
    assert shown in seen["output"]
    assert seen["heavy"] == []


def test_list_imports_neither_torch_nor_numpy_and_shows_points_and_states(course, tmp_path, monkeypatch):
    import os

    cache = tmp_path / "scores.json"
    edited = course / "exercises" / "exercise2.py"
    cache.write_text(json.dumps({str(edited.resolve()): {
        "sha256": hashlib.sha256(edited.read_bytes()).hexdigest(), "score": 7, "max_score": 14}}))
    env = {**os.environ, "CNN_GRADE_CACHE": str(cache), "COLUMNS": "200"}
    seen = probe(["list"], cwd=course, env=env)
    assert seen["exit"] == 0, seen["output"]
    assert seen["heavy"] == []
    rows = {line.split("│")[1].strip(): line for line in seen["output"].splitlines() if "│ exercise" in line}
    for ex in EXERCISES:
        assert f"│ {sum(s.points for s in ex.checks()):g} " in rows[ex.name]
    assert "stub (exercise1.py)" in rows["exercise1"]
    assert "7/14 (exercise2.py)" in rows["exercise2"]
    assert "stub (exercise3.ipynb)" in rows["exercise3"]
    assert "no file" in rows["exercise4"]


def test_the_real_script_help_imports_no_torch(tmp_path):
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "grader", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "click" in imported  # the probe sees imports at all
    assert not imported & set(HEAVY)


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.name)
def test_points_read_from_source_equal_the_imported_checks(ex):
    """`list` reads points with ast; the grader imports the checks: the two must never drift apart."""
    from importlib import import_module

    declared = declared_checks(Path(importlib.util.find_spec(ex.checks_module).origin).read_text(encoding="utf-8"))
    imported = [(spec.name, spec.points) for spec in checks_of(import_module(ex.checks_module))]
    assert declared == imported
    assert ex.points() == sum(points for _, points in imported) > 0


def test_declared_checks_reads_only_check_decorators():
    source = textwrap.dedent("""
        from grader import registry
        from grader.grading.registry import check

        @check(points=2, title="a")
        def first(ctx): ...

        @registry.check(title="b", points=1.5, timeout=3)
        def second(ctx): ...

        @functools.cache
        def helper(): ...

        def plain(): ...
    """)
    assert declared_checks(source) == [("first", 2.0), ("second", 1.5)]


@pytest.mark.parametrize("decorator", ["@check(points=POINTS, title='x')", "@check(title='x')",
                                       "@check(points='2', title='x')", "@check(points=True, title='x')"])
def test_declared_checks_refuses_points_it_cannot_read(decorator):
    with pytest.raises(ValueError):
        declared_checks(f"{decorator}\ndef c(ctx): ...\n")
