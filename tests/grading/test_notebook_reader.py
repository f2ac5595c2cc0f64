"""Notebooks as submissions: code cells in order, IPython-only lines skipped, errors placed by cell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings, strategies as st
from nbformat import v4

from grader.cli import cli
from grader.grading.engine import grade_exercise
from grader.errors import ToolError
from grader.grading.exercises import resolve
from grader.grading.notebook_reader import NotebookError, read_notebook
from grader.instructor.notebook_writer import grading_cell
from grader.grading.submission import find_in, is_stub, load, locate
from tests.conftest import REPO

EX1 = resolve("exercise1")


def split_cells(source: str) -> list[str]:
    """A module cut before each top-level def/class/if, the way a notebook would hold it."""
    cells, current = [], []
    for line in source.splitlines():
        if line.startswith(("def ", "class ", "if __name__")) and any(s.strip() for s in current):
            cells.append("\n".join(current))
            current = []
        current.append(line)
    cells.append("\n".join(current))
    return cells


def notebook_of(path: Path, *code: str, markdown: str = "# Exercise") -> nbformat.NotebookNode:
    """A notebook: one markdown cell, then the given code cells (default: the file at `path`, split up)."""
    cells = [v4.new_markdown_cell(markdown)]
    cells += [v4.new_code_cell(c) for c in (code or split_cells(path.read_text()))]
    return v4.new_notebook(cells=cells)


def write(nb, path: Path) -> Path:
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
    return path


# --- reading -----------------------------------------------------------------------------------
def test_code_cells_are_joined_in_order_and_markdown_is_skipped():
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("x = 'not code'"), v4.new_code_cell("a = 1"),
                                v4.new_raw_cell("b = 2"), v4.new_code_cell("c = a + 1\nd = c")])
    got = read_notebook(nbformat.writes(nb), "n.ipynb")
    namespace: dict = {}
    exec(got.source, namespace)
    assert (namespace["a"], namespace["d"]) == (1, 2) and "b" not in namespace
    assert got.notes == ()
    assert got.place(got.source.splitlines().index("d = c") + 1) == "cell 4, line 2"


def test_magics_and_shell_lines_are_dropped_with_a_note_and_blocks_survive():
    cell = "%matplotlib inline\n!pip install numpy\nfiles = !ls\nif True:\n    %timeit 1 + 1\n    y = 3\nlen?\n"
    got = read_notebook(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell(cell)])), "n.ipynb")
    namespace: dict = {}
    exec(got.source, namespace)  # would be a SyntaxError if a magic were left in or a block emptied
    assert namespace["y"] == 3 and "files" not in namespace
    assert len(got.notes) == 1
    for text in ("%matplotlib inline", "!pip install numpy", "cell 1, line 5", "len?"):
        assert text in got.notes[0]


@pytest.mark.parametrize("line", ["np.zeros(3)?", "np.*zero*?", "??np.zeros", "np.zeros??", "? np", "a[0]?",
                                  "np.zeros(3, dtype=float)??", "    np.zeros?"])
def test_help_lines_with_arguments_or_wildcards_are_dropped_with_a_note(line):
    cell = f"import numpy as np\nif True:\n{line if line.startswith(' ') else '    ' + line}\n{line.strip()}\nx = 1\n"
    got = read_notebook(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell(cell)])), "n.ipynb")
    namespace: dict = {}
    exec(got.source, namespace)  # a SyntaxError (0 points) if the help line were left in
    assert namespace["x"] == 1
    assert "cell 1, line 4" in got.notes[0] and line.strip() in got.notes[0]


def test_question_marks_in_comments_and_strings_are_kept_when_a_magic_forces_line_by_line_reading():
    cell = 'x = 1  # why?\ns = """\nIs this it?\n"""\nt = "a?"\n%time y = 2\n'
    got = read_notebook(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell(cell)])), "n.ipynb")
    namespace: dict = {}
    exec(got.source, namespace)
    assert (namespace["x"], namespace["s"], namespace["t"]) == (1, "\nIs this it?\n", "a?")
    assert "%time" in got.notes[0] and "why" not in got.notes[0] and "Is this" not in got.notes[0]


def test_python_that_looks_like_a_magic_is_kept():
    cell = "x = (7\n% 4)\ny = x != 1\n"
    got = read_notebook(nbformat.writes(v4.new_notebook(cells=[v4.new_code_cell(cell)])), "n.ipynb")
    assert "% 4)" in got.source and got.notes == ()


def test_a_cell_magic_drops_its_whole_cell():
    nb = v4.new_notebook(cells=[v4.new_code_cell("%%bash\nrm -rf /tmp/nothing\n"), v4.new_code_cell("z = 5")])
    got = read_notebook(nbformat.writes(nb), "n.ipynb")
    assert "rm -rf" not in got.source and "z = 5" in got.source
    assert "cell 1: the whole cell (%%bash)" in got.notes[0]


@pytest.mark.parametrize("text, words", [
    ('{"cells": [', "ends too early"),
    ('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, }', "broken JSON at line 1"),
    ("[1, 2]", "no list of cells"),
    ('{"cells": [3], "nbformat": 4}', "cell 1 is not a cell object"),
    ('{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
     "does not follow the notebook format"),
])
def test_broken_notebooks_get_one_clear_reason(text, words):
    with pytest.raises(NotebookError, match="n.ipynb") as caught:
        read_notebook(text, "n.ipynb")
    assert words in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_loader(data):
    text = data.decode("utf-8", "replace")
    try:
        read_notebook(text, "n.ipynb")
    except NotebookError:
        pass


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                        max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"cells": st.lists(st.dictionaries(
    st.sampled_from(["cell_type", "source", "metadata", "outputs", "id"]), json_values), max_size=3)},
    optional={"nbformat": st.integers(0, 6), "nbformat_minor": st.integers(0, 6), "metadata": json_values}))
def test_random_notebook_shaped_json_gives_source_or_a_reason(raw):
    try:
        got = read_notebook(json.dumps(raw), "n.ipynb")
    except NotebookError as e:
        assert "n.ipynb" in str(e)
    else:
        assert isinstance(got.source, str) and len(got.origins) == len(got.source.splitlines())


# --- grading -----------------------------------------------------------------------------------
def test_a_notebook_of_the_key_scores_full_marks_and_the_report_names_it(tmp_path):
    path = write(notebook_of(REPO / "solutions/exercise1.py"), tmp_path / "exercise1.ipynb")
    report = grade_exercise("exercise1", submission=path)
    assert report.all_passed and report.submission.endswith("exercise1.ipynb")


def test_an_error_in_cell_4_is_placed_in_cell_4(tmp_path):
    key = split_cells((REPO / "solutions/exercise1.py").read_text())
    nb = notebook_of(REPO, *key[:2], "x = 1\nraise RuntimeError('oops')", *key[2:])  # the 4th cell, markdown first
    report = grade_exercise("exercise1", submission=write(nb, tmp_path / "exercise1.ipynb"))
    assert report.score == 0
    assert "cell 4, line 2" in report.checks[0].message, report.checks[0].message
    assert "RuntimeError" in report.checks[0].message


def test_a_syntax_error_is_placed_by_cell_and_nothing_runs(tmp_path):
    nb = notebook_of(REPO, "import numpy as np", "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                                                "    return x +\n")
    report = grade_exercise("exercise1", submission=write(nb, tmp_path / "exercise1.ipynb"))
    assert {c.status for c in report.checks} == {"error"}
    assert "cell 3, line 2" in report.checks[0].message, report.checks[0].message


def test_a_truncated_notebook_scores_zero_with_its_reason(tmp_path):
    good = nbformat.writes(notebook_of(REPO / "solutions/exercise1.py"))
    path = tmp_path / "exercise1.ipynb"
    path.write_text(good[: len(good) // 2])
    report = grade_exercise("exercise1", submission=path)
    assert report.score == 0 and "ends too early" in report.checks[0].message


def test_magics_in_a_graded_notebook_are_reported_not_run(tmp_path):
    marker = tmp_path / "ran"
    nb = notebook_of(REPO, f"!touch {marker}\n%env X=1", *split_cells((REPO / "solutions/exercise1.py").read_text()))
    report = grade_exercise("exercise1", submission=write(nb, tmp_path / "exercise1.ipynb"))
    assert report.all_passed and not marker.exists()
    assert any("!touch" in note for note in report.notes)


# --- choosing between exercise1.py and exercise1.ipynb -----------------------------------------
@pytest.fixture
def both(tmp_path):
    """exercises/ with the released stub as both .py and .ipynb."""
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "exercise1.py").write_text((REPO / "exercises/exercise1.py").read_text())
    write(notebook_of(REPO / "exercises/exercise1.py"), folder / "exercise1.ipynb")
    return folder


def test_the_edited_notebook_is_graded_when_the_py_is_still_the_stub(both):
    write(notebook_of(REPO / "solutions/exercise1.py"), both / "exercise1.ipynb")
    assert find_in(EX1, both) == both / "exercise1.ipynb"
    assert locate(EX1, start=both.parent) == both / "exercise1.ipynb"


def test_the_edited_py_is_graded_when_the_notebook_is_still_the_stub(both):
    (both / "exercise1.py").write_text((REPO / "solutions/exercise1.py").read_text())
    assert find_in(EX1, both) == both / "exercise1.py"


def test_both_edited_asks_for_file(both):
    (both / "exercise1.py").write_text((REPO / "solutions/exercise1.py").read_text())
    write(notebook_of(REPO / "solutions/exercise1_loops.py"), both / "exercise1.ipynb")
    with pytest.raises(ToolError, match="--file"):
        find_in(EX1, both)


def test_neither_edited_grades_the_py(both):
    assert find_in(EX1, both) == both / "exercise1.py"
    assert is_stub(EX1, load(EX1, both / "exercise1.ipynb").source)


def test_cli_grades_the_notebook_in_a_course_folder_and_names_it(both):
    write(notebook_of(REPO / "solutions/exercise1.py"), both / "exercise1.ipynb")
    done = subprocess.run([sys.executable, "-m", "grader", "exercise1", "--format", "json"], cwd=both.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["submission"].endswith("exercise1.ipynb") and data["score"] == data["max_score"]


def test_cli_asks_for_file_when_both_were_edited(both, monkeypatch):
    from click.testing import CliRunner

    (both / "exercise1.py").write_text((REPO / "solutions/exercise1.py").read_text())
    write(notebook_of(REPO / "solutions/exercise1.py"), both / "exercise1.ipynb")
    monkeypatch.chdir(both.parent)
    result = CliRunner().invoke(cli, ["exercise1"])
    assert result.exit_code == 2
    assert "--file" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("cell", [
    grading_cell("exercise1", "exercise1.ipynb"),  # what build writes now
    "!cnn-grade exercise1 --file exercise1.ipynb",  # what it wrote before
    "import sys\n!{sys.executable} -m grader exercise1 --file exercise1.ipynb",
])
def test_the_notebooks_own_grading_cell_is_skipped_without_a_remark(cell):
    nb = v4.new_notebook(cells=[v4.new_code_cell("a = 1"), v4.new_code_cell(cell)])
    got = read_notebook(nbformat.writes(nb), "n.ipynb")
    assert "grade" not in got.source and "subprocess" not in got.source and got.notes == ()


def test_a_notebook_with_the_written_grading_cell_grades_without_refused_imports(tmp_path):
    # The cell imports subprocess, which exercise1 refuses: graded, it would cost every point.
    nb = notebook_of(REPO / "solutions/exercise1.py")
    nb.cells.append(v4.new_code_cell(grading_cell("exercise1", "exercise1.ipynb")))
    report = grade_exercise("exercise1", submission=write(nb, tmp_path / "exercise1.ipynb"))
    assert report.all_passed and report.notes == ()


def test_a_file_as_build_recorded_it_counts_as_released(both):
    import hashlib

    from grader.instructor.markers import make_stub

    # A stub with a custom placeholder does not look like one, but the build record knows it.
    (both / "exercise1.py").write_text(make_stub((REPO / "solutions/exercise1.py").read_text(), placeholder="pass"))
    write(notebook_of(REPO / "solutions/exercise1.py"), both / "exercise1.ipynb")
    with pytest.raises(ToolError):
        find_in(EX1, both)
    digest = hashlib.sha256((both / "exercise1.py").read_bytes()).hexdigest()
    (both / ".cnn-grade-build.json").write_text(json.dumps({"sha256": {"exercises/exercise1.py": digest}}))
    assert find_in(EX1, both) == both / "exercise1.ipynb"
