"""An interrupted `cnn-grade batch`: every student keeps a row, a file not yet graded is `pending` (never
`missing`), and the advice printed resumes the run without grading again what it already graded, --force too."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.classroom.batch import BatchInterrupted, grade_batch, resume_advice

from ..conftest import REPO
from .test_batch import EX1, batch, env

EX2 = EX1.parent / "exercise2"
LOOP = "while True:\n    pass\n"  # holds its worker for the whole --timeout: the interrupt lands while it runs


def write_class(root: Path, files: dict[str, str]) -> Path:
    """A submissions folder from {"student/exerciseN.py": text}."""
    submissions = root / "class"
    for name, text in files.items():
        (submissions / name).parent.mkdir(parents=True, exist_ok=True)
        (submissions / name).write_text(text)
    return submissions


def cells(out: Path) -> dict:
    """(student, exercise) -> cell, from grades.json."""
    data = json.loads((out / "grades.json").read_text())
    return {(s, ex): c for s, row in data["students"].items() for ex, c in row["exercises"].items()}


def csv_rows(out: Path) -> list[list[str]]:
    with (out / "grades.csv").open() as f:
        return list(csv.reader(f))


def wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (FileNotFoundError, ValueError, KeyError):  # not written yet
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def interrupt_when(request):
    """Ctrl-C (SIGINT to this process) once `condition()` holds, from a watcher thread."""
    done = threading.Event()

    def start(condition) -> None:
        def watch() -> None:
            while not done.is_set():
                try:
                    if condition():
                        os.kill(os.getpid(), signal.SIGINT)
                        return
                except (FileNotFoundError, ValueError, KeyError):
                    pass
                time.sleep(0.05)

        threading.Thread(target=watch, daemon=True).start()

    yield start
    done.set()


def test_ctrl_c_leaves_every_student_a_row_and_ungraded_cells_pending(tmp_path):
    submissions = write_class(tmp_path, {
        "a-done/exercise1.py": (EX1 / "good_einsum.py").read_text(),
        "b-busy/exercise1.py": LOOP,
        "c-later/exercise1.py": (EX1 / "good_loops.py").read_text(),
        "c-later/exercise2.py": (EX2 / "good_forward.py").read_text(),
        "d-later/exercise2.py": (EX2 / "good_forward.py").read_text(),
    })
    out = tmp_path / "gradebook"
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
                             "--workers", "1", "--timeout", "60"], cwd=REPO, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: cells(out)[("a-done", "exercise1")]["status"] == "ok", "the first grade")
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C, while b-busy's endless loop holds the only worker
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert "run the same command again to resume" in stderr and "Traceback" not in stderr

    assert csv_rows(out) == [["student", "exercise1", "exercise2", "total"],
                             ["a-done", "19", "missing", "19"],
                             ["b-busy", "pending", "missing", "0"],
                             ["c-later", "pending", "pending", "0"],
                             ["d-later", "missing", "pending", "0"]]
    pending = cells(out)[("c-later", "exercise2")]
    assert pending["file"] == "c-later/exercise2.py" and pending["max_score"] == 14 and pending["sha256"] is None
    assert "not graded yet" in pending["message"]

    shutil.copy(EX1 / "good_im2col.py", submissions / "b-busy" / "exercise1.py")
    (submissions / "e-new").mkdir()  # handed in after the interrupt: no run has examined its exercise2 yet
    shutil.copy(EX2 / "good_recursive.py", submissions / "e-new" / "exercise2.py")
    part = batch(submissions, "--out", out, "--workers", 1, "--exercise", "exercise1")
    assert part.exit_code == 1, part.output  # exercise2's pending cells are not done
    assert "Graded 2, kept 1" in part.output and "2 still pending from an interrupted run (exercise2)" in part.output
    assert csv_rows(out)[-1] == ["e-new", "missing", "", "0"]  # blank: not examined, which "missing" would deny
    rest = batch(submissions, "--out", out, "--workers", 1)
    assert rest.exit_code == 0 and "Graded 3, kept 3" in rest.output, rest.output
    assert [row[1:] for row in csv_rows(out)[1:]] == [["19", "missing", "19"], ["19", "missing", "19"],
                                                      ["19", "14", "33"], ["missing", "14", "14"],
                                                      ["missing", "14", "14"]]


def test_an_interrupted_forced_run_resumes_without_force_and_keeps_what_it_graded(tmp_path, interrupt_when):
    submissions = write_class(tmp_path, {
        "a/exercise1.py": (EX1 / "good_einsum.py").read_text(),
        "b/exercise1.py": LOOP,
        "c/exercise2.py": (EX2 / "good_forward.py").read_text(),
    })
    out = tmp_path / "gradebook"
    first = grade_batch(submissions, out=out, workers=1, timeout=1)
    assert first.complete and first.graded == 3
    # An old date on a's grade shows when the forced run has graded it afresh.
    data = json.loads((out / "grades.json").read_text())
    data["students"]["a"]["exercises"]["exercise1"]["graded_at"] = "2000-01-01T00:00:00Z"
    (out / "grades.json").write_text(json.dumps(data))

    # With --timeout 60, b's endless loop holds the only worker: the Ctrl-C lands after a and before c.
    interrupt_when(lambda: cells(out)[("a", "exercise1")]["graded_at"] not in ("2000-01-01T00:00:00Z", ""))
    with pytest.raises(BatchInterrupted) as stopped:
        grade_batch(submissions, out=out, workers=1, timeout=60, force=True)
    assert stopped.value.advice == resume_advice(True, 2)
    assert "run the same command again without --force to resume" in stopped.value.advice
    forced = cells(out)
    assert forced[("a", "exercise1")]["status"] == "ok" and forced[("a", "exercise1")]["score"] == 19
    assert {forced[key]["status"] for key in (("b", "exercise1"), ("c", "exercise2"))} == {"pending"}

    resumed = grade_batch(submissions, out=out, workers=1, timeout=1)  # the advice: the same, without --force
    assert (resumed.graded, resumed.kept, resumed.complete) == (2, 1, True)
    after = cells(out)
    assert after[("a", "exercise1")] == forced[("a", "exercise1")]  # what the forced run graded is kept
    assert after[("b", "exercise1")]["score"] == 0 and after[("c", "exercise2")]["score"] == 14


def test_the_advice_names_the_command_that_resumes():
    assert resume_advice(False) == ("Interrupted: the gradebook keeps what was graded; "
                                    "run the same command again to resume.")
    assert "marks 1 cell pending" in resume_advice(False, 1) and "--force" not in resume_advice(False, 1)
    assert "marks 3 cells pending" in resume_advice(True, 3) and "without --force" in resume_advice(True, 3)
