"""Finding the student's file, reading it, and the static checks done before it runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.errors import ToolError
from grader.grading.exercises import resolve
from grader.grading.submission import MAX_BYTES, is_stub, load, locate, static_problems

REPO = Path(__file__).resolve().parents[2]
EX1 = resolve("exercise1")
EX2 = resolve("exercise2")


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# -- locate ------------------------------------------------------------------------------------
def test_locate_with_file_returns_that_file(tmp_path):
    path = write(tmp_path / "mine.py", "x = 1\n")
    assert locate(EX1, path) == path
    assert locate(EX1, str(path)) == path


def test_locate_with_missing_file(tmp_path):
    with pytest.raises(ToolError, match="No such file"):
        locate(EX1, tmp_path / "missing.py")


def test_locate_with_a_directory(tmp_path):
    folder = tmp_path / "folder.py"
    folder.mkdir()
    with pytest.raises(ToolError, match="Not a file"):
        locate(EX1, folder)


@pytest.mark.parametrize("name", ["answer.txt", "exercise1.ipynb.bak", "exercise1"])
def test_locate_with_the_wrong_suffix(tmp_path, name):
    path = write(tmp_path / name, "x = 1\n")
    with pytest.raises(ToolError, match=r"\.py file or a \.ipynb"):
        locate(EX1, path)


def test_locate_finds_the_exercise_in_the_current_folder(tmp_path, monkeypatch):
    target = write(tmp_path / "exercises" / "exercise1.py", "x = 1\n")
    monkeypatch.chdir(tmp_path)
    assert locate(EX1).resolve() == target.resolve()


def test_locate_finds_the_exercise_from_a_subfolder(tmp_path):
    target = write(tmp_path / "exercises" / "exercise2.py", "x = 1\n")
    deep = tmp_path / "notes" / "week3"
    deep.mkdir(parents=True)
    assert locate(EX2, start=deep).resolve() == target.resolve()


def test_locate_takes_the_nearest_exercise_and_skips_directories(tmp_path):
    write(tmp_path / "exercises" / "exercise1.py", "x = 1\n")
    nearer = write(tmp_path / "course" / "exercises" / "exercise1.py", "x = 2\n")
    (tmp_path / "course" / "sub" / "exercises" / "exercise1.py").mkdir(parents=True)  # a folder, not a file
    assert locate(EX1, start=tmp_path / "course" / "sub").resolve() == nearer.resolve()


def test_locate_not_found_names_the_file(tmp_path):
    write(tmp_path / "exercises" / "exercise2.py", "x = 1\n")  # the other exercise does not count
    with pytest.raises(ToolError, match=r"exercise1\.py"):
        locate(EX1, start=tmp_path)


# -- load --------------------------------------------------------------------------------------
def test_load_a_clean_file(tmp_path):
    path = write(tmp_path / "exercise1.py", "\ufeffimport numpy as np\n\ndef conv2d(x, w):\n    return x\n")
    sub = load(EX1, path)
    assert sub.problems == ()
    assert sub.path == path
    assert sub.source.startswith("import numpy")  # the BOM is dropped


@pytest.mark.parametrize("text, empty", [
    ("", True), ("\n\n# notes for later\n", True), ('"""My answer."""\n', True), ("pass\n", True),
    ("import numpy as np\n", False), ("x = 1\n", False), ("def conv2d(\n", False),  # a syntax error is code
])
def test_load_tells_a_file_with_no_code_yet(tmp_path, text, empty):
    sub = load(EX1, write(tmp_path / "exercise1.py", text))
    assert sub.empty is empty and bool(sub.problems) is (text == "def conv2d(\n")


def test_load_reports_a_syntax_error_with_line_and_caret(tmp_path):
    path = write(tmp_path / "exercise1.py", "import numpy as np\n\ndef conv2d(x, w)\n    return x\n")
    sub = load(EX1, path)
    assert len(sub.problems) == 1
    problem = sub.problems[0]
    assert "SyntaxError" in problem and "line 3" in problem
    lines = problem.splitlines()
    assert any(line.strip() == "def conv2d(x, w)" for line in lines)
    caret = [line for line in lines if line.strip() == "^"]
    assert len(caret) == 1
    code_line = next(line for line in lines if line.strip() == "def conv2d(x, w)")
    assert caret[0].index("^") == len(code_line)  # under the spot where the colon is missing


def test_load_binary_file_is_a_problem(tmp_path):
    sub = load(EX1, write(tmp_path / "exercise1.py", b"import numpy\x00\x01\x02"))
    assert sub.problems and "NUL" in sub.problems[0]
    assert sub.source == ""


def test_load_non_utf8_file_is_a_problem(tmp_path):
    sub = load(EX1, write(tmp_path / "exercise1.py", "# café\nx = 1\n".encode("latin-1")))
    assert sub.problems and "UTF-8" in sub.problems[0]
    assert sub.source == ""


def test_load_too_large_file_is_a_problem(tmp_path):
    sub = load(EX1, write(tmp_path / "exercise1.py", b"#" * (MAX_BYTES + 1)))
    assert sub.problems and "bytes" in sub.problems[0]
    assert sub.source == ""
    at_limit = load(EX1, write(tmp_path / "ok.py", b"#" * MAX_BYTES))
    assert at_limit.problems == ()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads unreadable files anyway")
def test_load_unreadable_file_is_a_tool_error(tmp_path):
    path = write(tmp_path / "exercise1.py", "x = 1\n")
    path.chmod(0)
    try:
        with pytest.raises(ToolError, match="Cannot read"):
            load(EX1, path)
    finally:
        path.chmod(0o644)


def test_load_a_directory_is_a_tool_error(tmp_path):
    with pytest.raises(ToolError, match="Cannot read"):
        load(EX1, tmp_path)


# -- static problems --------------------------------------------------------------------------
HEAD = "import numpy as np\n\n"  # the snippet under test is on line 3


@pytest.mark.parametrize("snippet", [
    "import torch",
    "import torch.nn.functional as F",
    "from scipy import signal",
    "x = __import__('torch')",
    "m = importlib.import_module('torch')",
    "import importlib",
    "from importlib import import_module",
    "exec('import torch')",
    "y = eval('1 + 1')",
    "f = getattr(builtins, '__import__')",
    "import builtins",
    "m = sys.modules['torch']",
    "from sys import modules",
    "s = sys; m = s.modules",
    "g = compile('import torch', 'x', 'exec')",
    "b = __builtins__",
    "import ctypes",
    "import jax.numpy as jnp",
    "sys.meta_path.pop(0)",
    "f = getattr(np, '__builtins__')['__import__']",
    "c = ().__class__.__base__.__subclasses__()",
    "g = np.array.__self__",
    "h = vars(np)",
])
def test_exercise1_refuses_other_libraries_and_dynamic_imports(snippet):
    problems = static_problems(EX1, HEAD + snippet + "\n", "exercise1.py")
    assert problems, snippet
    assert all(p.startswith("line 3:") for p in problems), problems


def test_refused_code_inside_a_function_names_its_own_line():
    source = HEAD + "def conv2d(x, w):\n    import torch\n    return torch.tensor(x)\n"
    assert [p.split(":")[0] for p in static_problems(EX1, source, "exercise1.py")] == ["line 4"]


def test_several_problems_are_listed_in_line_order():
    source = "import numpy as np\nimport torch\nx = 1\nfrom scipy import signal\ny = eval('2')\n"
    problems = static_problems(EX1, source, "exercise1.py")
    assert [p.split(":")[0] for p in problems] == ["line 2", "line 4", "line 5"]
    assert "torch" in problems[0] and "scipy" in problems[1] and "eval" in problems[2]


def test_exercise1_accepts_plain_numpy_code():
    source = (
        "import math\n"
        "from typing import Tuple\n"
        "import numpy as np\n"
        "from numpy.lib.stride_tricks import sliding_window_view\n"
        "import operator\n"
        "\n"
        "# import torch would be easier, but \"torch\" in a comment or string is fine\n"
        "def conv2d(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:\n"
        "    '''Not torch.nn.functional.conv2d.'''\n"
        "    windows = sliding_window_view(x, weight.shape[-2:], axis=(1, 2))\n"
        "    return np.einsum('chwij,ocij->ohw', windows, weight) + math.fsum([0.0])\n"
    )
    assert static_problems(EX1, source, "exercise1.py") == []


def test_exercise1_accepts_the_shipped_stub_and_the_solution():
    for path in (REPO / "exercises" / "exercise1.py", REPO / "solutions" / "exercise1.py"):
        assert static_problems(EX1, path.read_text(encoding="utf-8"), path.name) == [], path


def test_exercise2_accepts_torch():
    source = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
    assert static_problems(EX2, source, "exercise2.py") == []
    assert static_problems(EX1, source, "exercise1.py")  # the same code is refused for exercise 1


def test_exercise2_still_reports_syntax_errors():
    problems = static_problems(EX2, "import torch\ndef f(:\n", "exercise2.py")
    assert len(problems) == 1 and "line 2" in problems[0]


# -- is_stub ---------------------------------------------------------------------------------------
def test_shipped_exercises_are_stubs():
    for ex in (EX1, EX2):
        source = (REPO / "exercises" / ex.filename).read_text(encoding="utf-8")
        assert is_stub(ex, source), ex.name


def test_solution_is_not_a_stub():
    assert not is_stub(EX1, (REPO / "solutions" / "exercise1.py").read_text(encoding="utf-8"))


def test_exercise2_with_one_function_written_is_not_a_stub():
    source = (REPO / "exercises" / "exercise2.py").read_text(encoding="utf-8")
    stub_body = '''    moves the window but does not change its extent. With no layers at all a
    unit is just one input pixel, so ``receptive_field([]) == 1``.
    """
    raise NotImplementedError
'''
    assert stub_body in source
    written = source.replace(stub_body, stub_body.replace(
        "    raise NotImplementedError\n",
        "    rf, jump = 1, 1\n    for k, s, _ in layers:\n        rf += (k - 1) * jump\n        jump *= s\n    return rf\n"))
    assert written != source
    assert not is_stub(EX2, written)


def test_missing_function_or_broken_file_is_not_a_stub():
    source = (REPO / "exercises" / "exercise1.py").read_text(encoding="utf-8")
    assert not is_stub(EX1, source.replace("def conv2d(", "def convolve("))
    assert not is_stub(EX1, source + "\ndef (\n")
