"""Grading runs end to end: integrity against tampering, crashes that cost one check, seeds, no solutions/."""

from __future__ import annotations

import shutil
import sys
import textwrap

import nbformat
import pytest
from click.testing import CliRunner
from nbformat import v4

from grader.cli import cli
from grader.grading.engine import grade_exercise
from grader.grading.exercises import resolve
from grader.instructor.notebook_writer import grading_cell
from tests.conftest import REPO

KEY1 = (REPO / "solutions/exercise1.py").read_text()


def write(tmp_path, name: str, source: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def statuses(report) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def test_patching_numpy_comparisons_cannot_pass_wrong_code(tmp_path):
    path = write(tmp_path, "tamper.py", """
        import numpy as np
        import numpy.testing
        np.allclose = lambda *a, **k: True
        np.array_equal = lambda *a, **k: True
        np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
        numpy.testing.assert_allclose = lambda *a, **k: None

        def conv2d(x, weight, bias=None, stride=1, padding=0):
            return np.zeros((weight.shape[0], 1, 1), dtype=x.dtype)
        """)
    report = grade_exercise("exercise1", submission=path)
    assert report.score == 0
    assert all(c.status == "failed" for c in report.checks)


def test_printing_a_fake_passing_result_changes_nothing(tmp_path):
    path = write(tmp_path, "liar.py", """
        import sys
        print('{"exercise": "exercise1", "score": 19.0, "max_score": 19.0, "checks": []}')
        sys.stderr.write("Score: 19.0 / 19.0  all checks passed\\n")

        def conv2d(x, weight, bias=None, stride=1, padding=0):
            print('{"score": 19.0}')
            raise NotImplementedError
        """)
    report = grade_exercise("exercise1", submission=path)
    assert report.score == 0
    assert '"score": 19.0' in report.captured_output  # kept as the student's output, nowhere else


def test_exits_and_endless_loops_cost_only_their_own_checks(tmp_path):
    # The key, sabotaged only for stride 3 (sys.exit), padding 2 (os._exit) and float32 (a loop).
    source = KEY1.replace("def conv2d(", "def _conv2d(") + textwrap.dedent("""

        import os, sys
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            if stride == 3:
                sys.exit(0)
            if padding == 2:
                os._exit(0)
            if x.dtype == np.float32:
                while True:
                    pass
            return _conv2d(x, weight, bias, stride, padding)
        """)
    path = write(tmp_path, "sabotage.py", source)
    report = grade_exercise("exercise1", submission=path, timeout=2)
    got = statuses(report)
    assert got["values_stride"] == "error"  # sys.exit(0) raised SystemExit inside the call
    assert got["values_padding"] == "crashed"  # os._exit(0) ended the child
    assert got["dtype"] == "timeout"
    for name in ("returns_array", "values_plain", "bias", "errors_rank", "inputs_unchanged", "numpy_only"):
        assert got[name] == "passed", (name, got[name])
    padding = next(c for c in report.checks if c.name == "values_padding")
    assert "exited with code 0" in padding.message
    timeout = next(c for c in report.checks if c.name == "dtype")
    assert "did not return within 2 s" in timeout.message


def test_error_at_import_fails_every_check_with_the_reason(tmp_path):
    path = write(tmp_path, "boom.py", """
        import numpy as np
        SIZE = 1 / 0
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            return x
        """)
    report = grade_exercise("exercise1", submission=path)
    assert {c.status for c in report.checks} == {"error"}
    assert all("ZeroDivisionError" in c.message and "line 3" in c.message for c in report.checks)


def test_code_without_the_function_says_what_is_missing(tmp_path):
    report = grade_exercise("exercise1", submission=write(tmp_path, "no_conv.py", "import numpy as np\n"))
    assert report.score == 0
    assert all("defines no 'conv2d'" in c.message for c in report.checks)


def no_code_notebook(*code: str) -> str:
    """A notebook of markdown cells, and the given code cells (empty, comments, the grading cell)."""
    cells = [v4.new_markdown_cell("# Exercise 1"), *(v4.new_code_cell(c) for c in code), v4.new_markdown_cell("done")]
    return nbformat.writes(v4.new_notebook(cells=cells))


@pytest.mark.parametrize("name, text", [
    ("exercise1.py", ""),
    ("exercise1.py", '"""My answer."""\n# to do\n\n'),
    ("exercise1.ipynb", no_code_notebook()),
    ("exercise1.ipynb", no_code_notebook("", "# later", "%matplotlib inline", grading_cell("exercise1", "exercise1.ipynb"))),
])
def test_a_file_with_no_code_yet_is_said_once_not_per_check(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    result = CliRunner().invoke(cli, ["exercise1", "--file", str(tmp_path / name)])
    out = " ".join(result.output.split())
    assert result.exit_code == 1, result.output  # a score of zero, not a tool error
    assert "defines no" not in out and "-v" not in out and "traceback" not in out.lower()
    checks = len(resolve("exercise1").checks())
    assert f"All {checks} checks — failed for the same reason, 0/19 points" in out
    assert out.count(f"not run: {name} has no code yet") == 1  # one block for every check
    assert out.count("has no code yet") == 1  # said once, with what to write
    assert "Score: 0.0 / 19.0" in out


def test_refused_imports_stop_the_run_and_say_why(tmp_path):
    path = write(tmp_path, "sneaky.py", """
        import numpy as np
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            F = __import__("torch").nn.functional
            return F.conv2d(x, weight).numpy()
        """)
    report = grade_exercise("exercise1", submission=path)
    assert report.score == 0
    # Said in the checks' one shared message, not again in a note.
    assert not any("__import__" in note for note in report.notes)
    assert all(c.message.startswith("not run: line 4: uses __import__") for c in report.checks)


def test_seed_changes_hidden_inputs_and_the_child_never_sees_it(tmp_path, monkeypatch):
    path = write(tmp_path, "spy.py", KEY1.replace(
        "def conv2d(", "import os\nprint('SEED=' + str(os.environ.get('CNN_GRADE_SEED')))\n\ndef conv2d(", 1))
    monkeypatch.setenv("CNN_GRADE_SEED", "424242")
    report = grade_exercise("exercise1", submission=path)
    assert report.seed == 424242 and report.score == report.max_score
    assert "SEED=None" in report.captured_output and "424242" not in report.captured_output
    assert grade_exercise("exercise1", submission=path, seed=9).seed == 9  # --seed wins over the variable

    shifted = write(tmp_path, "shifted.py", KEY1.replace("def conv2d(", "def _conv2d(") +
                    "\n\ndef conv2d(*args, **kwargs):\n    return _conv2d(*args, **kwargs) + 0.5\n")

    def first_mismatch(seed):  # quotes the first wrong value, so it shows the hidden input
        report = grade_exercise("exercise1", submission=shifted, seed=seed)
        return next(c.message for c in report.checks if c.name == "values_padding")

    assert first_mismatch(1) == first_mismatch(1)  # reproducible for a seed
    assert first_mismatch(1) != first_mismatch(2)  # and different inputs for another


def test_grading_never_needs_solutions(tmp_path):
    # A student release: exercises/ only. The key graded from there scores the same as in the repo.
    student = tmp_path / "release"
    (student / "exercises").mkdir(parents=True)
    shutil.copy(REPO / "solutions/exercise2.py", student / "exercises/exercise2.py")
    here = grade_exercise("exercise2", submission=REPO / "solutions/exercise2.py")
    there = grade_exercise("exercise2", submission=student / "exercises/exercise2.py")
    assert statuses(here) == statuses(there) and there.score == there.max_score
    assert not [m for m in sys.modules if m.startswith("solutions")]
    grader_sources = "\n".join(p.read_text() for p in (REPO / "grader").rglob("*.py"))
    assert "import solutions" not in grader_sources and "from solutions" not in grader_sources


@pytest.mark.parametrize("exercise,functions", [("exercise1", 1), ("exercise2", 4)])
def test_every_check_of_a_stub_fails(exercise, functions):
    report = grade_exercise(exercise, submission=REPO / "exercises" / f"{exercise}.py")
    assert report.checks and report.score == 0 and not report.all_passed


def test_student_code_cannot_import_the_keys(tmp_path):
    path = write(tmp_path, "copycat.py", """
        def conv_output_size(size, kernel_size, stride=1, padding=0):
            from solutions.exercise2 import conv_output_size as key
            return key(size, kernel_size, stride, padding)
        """)
    report = grade_exercise("exercise2", submission=path)
    check = next(c for c in report.checks if c.name == "output_size_grid")
    assert check.status == "error" and "ModuleNotFoundError" in check.message


def test_a_submission_may_use_the_course_modules_but_not_the_grader(tmp_path):
    key = (REPO / "solutions" / "exercise4.py").read_text()
    uses_data = write(tmp_path, "uses_data.py", "from grader.data import load_shapes\n"
                                                "from grader.backbone import SmallResNet\n" + key)
    report = grade_exercise("exercise4", submission=uses_data)
    assert report.score == report.max_score  # what the statements tell students to use works
    patches = write(tmp_path, "patches.py", "import grader.grading.references\n" + key)
    report = grade_exercise("exercise4", submission=patches)
    assert report.score == 0 and set(statuses(report).values()) == {"error"}
    assert "the grader's own code is off limits" in report.checks[0].message


@pytest.mark.parametrize("exercise, imported", [("exercise3", True), ("exercise5", True), ("exercise4", False)])
def test_the_training_exercises_child_imports_torch_dynamo_before_student_code(tmp_path, exercise, imported):
    # torch.optim's first step (and a meta-device BatchNorm) import torch._dynamo, about 1.5 s: the child does it
    # while it starts, so no student call's time limit pays for it, and a batch's zygote does it once.
    path = tmp_path / f"{exercise}.py"
    path.write_text("import sys\nprint('dynamo already imported:', 'torch._dynamo' in sys.modules)\n"
                    + (REPO / "solutions" / f"{exercise}.py").read_text())
    report = grade_exercise(exercise, submission=path, checks=[resolve(exercise).checks()[0].name])
    assert f"dynamo already imported: {imported}" in report.captured_output
