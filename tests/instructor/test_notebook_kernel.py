"""The notebooks build writes, run as a student runs them: "Run All" in a real IPython kernel (nbclient)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import v4

from grader.grading.exercises import resolve
from grader.instructor.markers import DEFAULT_PLACEHOLDER
from grader.instructor.notebook_writer import grading_cell, stub_notebook
from tests.conftest import REPO

pytest.importorskip("ipykernel")

# A PATH without this interpreter's folder (nor any `cnn-grade`): how a registered kernel, or
# `venv/bin/jupyter` started without activating the venv, often runs.
BARE_PATH = os.pathsep.join(["/usr/bin", "/bin"])
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the kernel sets FORCE_COLOR, so the report comes in colour


@pytest.fixture(autouse=True)
def this_python_kernel(tmp_path_factory, monkeypatch):
    """Kernel "python3" is this interpreter, whatever other kernelspecs the machine has installed."""
    spec = tmp_path_factory.mktemp("jupyter") / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(spec.parent.parent))  # searched before the user's and the system's


def run_all(path: Path, *, path_variable: str | None = None, allow_errors: bool = False) -> nbformat.NotebookNode:
    """Run every cell of the notebook at `path` in order, in its folder, as Jupyter's "Run All" does."""
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, PATH=path_variable) if path_variable is not None else dict(os.environ)
    client = NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=env)
    return nb


def text_of(cell, name: str | None = None) -> str:
    """All the stream text a cell printed (or only its stdout or stderr), without colour codes."""
    return ANSI.sub("", "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.output_type == "stream" and (name is None or o.name == name)))


def report_of(cell) -> dict[str, str]:
    """The report the grading cell displays: {"text/plain": ..., "text/html": ...} (colour codes removed)."""
    shown = [o for o in cell.get("outputs", []) if o.output_type == "display_data"]
    assert len(shown) == 1, cell.get("outputs")  # "Grading ..." replaced in place by the report
    return {kind: ANSI.sub("", value) for kind, value in shown[0].data.items()}


def test_run_all_of_a_finished_notebook_grades_it_with_the_kernels_python_without_cnn_grade_on_path(tmp_path):
    assert shutil.which("cnn-grade", path=BARE_PATH) is None and str(Path(sys.executable).parent) not in BARE_PATH
    ex = resolve("exercise1")
    key = (REPO / "solutions" / ex.filename).read_text()
    nb = nbformat.reads(stub_notebook(ex, key, DEFAULT_PLACEHOLDER), as_version=4)
    # One more cell after grading: it says which Python the kernel runs (and, as a demo, is never graded).
    nb.cells.append(v4.new_code_cell('import sys\nif __name__ == "__main__":\n    print("kernel python:", sys.executable)'))
    path = tmp_path / "exercises" / "exercise1.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)

    done = run_all(path, path_variable=BARE_PATH)  # any cell that raises fails the test here

    assert text_of(done.cells[-1]).strip() == f"kernel python: {sys.executable}"
    report = report_of(done.cells[-2])
    assert "Score: 19.0 / 19.0" in report["text/plain"], report["text/plain"]  # where HTML cannot show
    page = report["text/html"]  # the HTML report, where it can
    assert page.startswith("<!DOCTYPE html>") and "Score: 19.0 / 19.0" in page and "all checks passed" in page
    assert "Grading exercise1.ipynb" not in str(done.cells[-2].outputs)
    assert not text_of(done.cells[-2])  # nothing else: no stream, no stderr


def test_run_all_of_the_exercise5_stub_notebook_passes_the_demo_and_reaches_the_grading_cell(tmp_path):
    path = tmp_path / "exercises" / "exercise5.ipynb"
    path.parent.mkdir()
    shutil.copy(REPO / "exercises" / "exercise5.ipynb", path)

    done = run_all(path)  # the demo's cell used to end in SystemExit, an error that stops "Run All"

    code = [c for c in done.cells if c.cell_type == "code"]
    assert "not implemented yet" in text_of(code[-2])
    report = report_of(code[-1])
    assert "Score: 0.0 /" in report["text/plain"], report["text/plain"]
    assert "Score: 0.0 /" in report["text/html"] and "What to fix" in report["text/html"]
    # A score below full marks shows the report, and a line on stderr that Jupyter sets apart.
    assert text_of(code[-1], "stderr").strip() == "Not every check passed yet: the report above says what to fix."


def test_a_grading_cell_that_cannot_grade_is_an_error_in_the_notebook(tmp_path):
    path = tmp_path / "exercise1.ipynb"
    nbformat.write(v4.new_notebook(cells=[v4.new_code_cell(grading_cell("exercise1", "nowhere.ipynb"))]), path)

    done = run_all(path, allow_errors=True)  # without it, the error would stop "Run All" (CellExecutionError)

    report = report_of(done.cells[0])
    assert "No such file: nowhere.ipynb" in report["text/plain"]  # the grader's own one-line reason
    assert "text/html" not in report  # no page was written: the reason shows as text
    errors = [o for o in done.cells[0].outputs if o.output_type == "error"]
    assert [(o.ename, o.evalue) for o in errors] == [
        ("RuntimeError", "cnn-grade could not grade nowhere.ipynb (exit code 2): see the message above.")]
