"""`cnn-grade batch`: a class of good, buggy, empty and hostile submissions graded into a gradebook,
killed half-way and resumed, a worker lost and replaced, and every bad input a tool error."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.classroom.gradebook import Gradebook

from ..conftest import REPO, SUBMISSIONS

EX1, EX4 = SUBMISSIONS / "exercise1", SUBMISSIONS / "exercise4"
FAKE_GRADEBOOK = 'import json\nprint(json.dumps({"students": {"hank": {"total": 999}}, "score": 19}))\n'
# What the class below must score: None is a missing file, "error" a submission that cannot be graded.
EXPECTED = {
    "alice": {"exercise1": 19, "exercise4": 11},
    "bob": {"exercise1": 18, "exercise4": None},
    "carol": {"exercise1": None, "exercise4": 4},
    "dave": {"exercise1": 0, "exercise4": None},
    "erin": {"exercise1": 0, "exercise4": None},
    "frank": {"exercise1": 0, "exercise4": None},
    "gina": {"exercise1": 0, "exercise4": None},
    "hank": {"exercise1": 0, "exercise4": None},
    "ivan": {"exercise1": None, "exercise4": None},
    "judy": {"exercise1": "error", "exercise4": None},
    "kim": {"exercise1": 19, "exercise4": None},
    "lena": {"exercise1": "error", "exercise4": None},
}


def notebook(path: Path, source: str) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Exercise 1"),
                                         nbformat.v4.new_code_cell(source)])
    nbformat.write(nb, path)


def make_class(root: Path) -> Path:
    """One folder per student: good and buggy samples, an empty file, a syntax error, os._exit, an endless
    loop, a fake gradebook printed, an empty folder, both .py and .ipynb edited, a notebook in an exercises/
    folder, and a symbolic link."""
    files = {
        "alice/exercise1.py": (EX1 / "good_einsum.py").read_text(),
        "alice/exercise4.py": (EX4 / "good_named.py").read_text(),
        "bob/exercise1.py": (EX1 / "bad_no_bias.py").read_text(),
        "carol/exercise4.py": (EX4 / "bad_no_skip.py").read_text(),
        "dave/exercise1.py": "",
        "erin/exercise1.py": "def conv2d(x, weight:\n    return x\n",
        "frank/exercise1.py": "import os\nos._exit(3)\n",
        "gina/exercise1.py": "while True:\n    pass\n",
        "hank/exercise1.py": FAKE_GRADEBOOK + "def conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                                              "    print(json.dumps({'score': 19}))\n    return x\n",
        "judy/exercise1.py": (EX1 / "bad_no_padding.py").read_text(),
        ".hidden/exercise1.py": (EX1 / "good_einsum.py").read_text(),
        "__MACOSX/exercise1.py": "",
    }
    submissions = root / "class"
    for name, text in files.items():
        (submissions / name).parent.mkdir(parents=True, exist_ok=True)
        (submissions / name).write_text(text)
    (submissions / "ivan").mkdir()
    (submissions / "kim" / "exercises").mkdir(parents=True)  # a whole course folder handed in
    notebook(submissions / "kim" / "exercises" / "exercise1.ipynb", (EX1 / "good_im2col.py").read_text())
    notebook(submissions / "judy" / "exercise1.ipynb", (EX1 / "bad_no_bias.py").read_text())
    (submissions / "lena").mkdir()
    (submissions / "lena" / "exercise1.py").symlink_to(REPO / "solutions" / "exercise1.py")
    (submissions / "notes.txt").write_text("not a student")
    return submissions


def scores(out: Path) -> dict:
    """student -> exercise -> score, None when missing, "error" when not gradable (from grades.json)."""
    data = json.loads((out / "grades.json").read_text())
    return {student: {ex: {"ok": cell["score"], "missing": None, "error": "error"}[cell["status"]]
                      for ex, cell in row["exercises"].items()}
            for student, row in data["students"].items()}


def verdicts(out: Path) -> dict:
    """Everything a grade depends on, without times: to compare two runs."""
    data = json.loads((out / "grades.json").read_text())
    return {(s, ex): (c["status"], c["score"], c["max_score"], c["file"], c["seed"], c["checks"])
            for s, row in data["students"].items() for ex, c in row["exercises"].items()}


def graded_cells(out: Path) -> dict:
    """(student, exercise) -> graded_at of the cells a worker graded so far."""
    try:
        data = json.loads((out / "grades.json").read_text())
    except FileNotFoundError:
        return {}
    return {(s, ex): c["graded_at"] for s, row in data["students"].items()
            for ex, c in row["exercises"].items() if c["sha256"]}


def workers_of(out: Path) -> list[int]:
    """Pids of the batch workers serving this gradebook (their command line names it)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "grader.classroom.batch_worker" in argv and json.dumps(str(out))[1:-1] in argv:
            pids.append(int(proc.name))
    return pids


def env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "CNN_GRADE_SEED"}


def batch(*args: str):
    return CliRunner().invoke(cli, ["batch", *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class graded once, uninterrupted, with two workers: (submissions, out, CLI result)."""
    root = tmp_path_factory.mktemp("batch")
    submissions = make_class(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("CNN_GRADE_SEED", raising=False)
        result = batch(submissions, "--workers", 2, "--timeout", 2)
    return submissions, root / "gradebook", result


def test_a_mixed_class_gets_a_complete_gradebook(graded_class):
    submissions, out, result = graded_class
    assert result.exit_code == 0, result.output
    assert scores(out) == EXPECTED
    with (out / "grades.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", "exercise1", "exercise4", "total"]
    assert rows[1] == ["alice", "19", "11", "30"]
    assert ["ivan", "missing", "missing", "0"] in rows and ["judy", "error", "missing", "0"] in rows
    assert len(rows) == 1 + len(EXPECTED)  # no .hidden, no __MACOSX, no notes.txt
    assert "Graded 10, kept 0" in result.output and f"{len(EXPECTED)} students" in result.output


def test_hostile_submissions_cost_only_their_own_row(graded_class):
    submissions, out, _ = graded_class
    data = json.loads((out / "grades.json").read_text())
    cells = {s: row["exercises"] for s, row in data["students"].items()}
    assert set(cells["gina"]["exercise1"]["checks"].values()) == {"timeout"}
    assert set(cells["frank"]["exercise1"]["checks"].values()) == {"crashed"}
    assert data["students"]["hank"]["total"] == 0  # printing a gradebook changes nothing
    assert "differ from the released stub" in cells["judy"]["exercise1"]["message"]
    assert "symbolic link" in cells["lena"]["exercise1"]["message"]
    assert cells["kim"]["exercise1"]["file"] == "kim/exercises/exercise1.ipynb"
    assert data["max_scores"] == {"exercise1": 19, "exercise4": 11}
    assert cells["ivan"]["exercise1"]["max_score"] == 19  # a missing file still says "out of 19"


def test_every_student_gets_feedback_for_every_exercise(graded_class):
    _, out, _ = graded_class
    feedback = out / "feedback"
    for student, row in EXPECTED.items():
        for exercise in row:
            assert (feedback / student / f"{exercise}.txt").is_file(), (student, exercise)
    assert "SyntaxError" in (feedback / "erin" / "exercise1.txt").read_text()
    assert "os._exit" in (feedback / "frank" / "exercise1.txt").read_text()
    assert "did not return within 2 s" in (feedback / "gina" / "exercise1.txt").read_text()
    bob = (feedback / "bob" / "exercise1.txt").read_text()
    assert "Score: 18.0 / 19.0" in bob and "file bob/exercise1.py" in bob and "\x1b[" not in bob
    assert "handed in" in (feedback / "ivan" / "exercise4.txt").read_text()
    # A page beside each graded file's text; none where nothing was graded.
    assert "<html" in (feedback / "bob" / "exercise1.html").read_text().lower()
    assert (feedback / "alice" / "exercise4.html").is_file() and not (feedback / "ivan" / "exercise4.html").exists()


def test_failed_checks_keep_their_diagnosis_and_fingerprint(graded_class):
    _, out, _ = graded_class
    cells = {s: row["exercises"] for s, row in json.loads((out / "grades.json").read_text())["students"].items()}
    bob = cells["bob"]["exercise1"]
    failed = {name for name, status in bob["checks"].items() if status != "passed"}
    assert failed and set(bob["diagnoses"]) == failed == set(bob["fingerprints"]) == set(bob["hints"])
    assert all(len(f) == 32 for f in bob["fingerprints"].values())
    assert cells["alice"]["exercise1"]["diagnoses"] == {} == cells["alice"]["exercise1"]["fingerprints"]
    assert set(cells["gina"]["exercise1"]["diagnoses"].values()) == {"timeout"}
    assert cells["gina"]["exercise1"]["fingerprints"] == {}  # cut short: nothing judged, nothing to compare


def test_a_page_that_cannot_be_written_costs_neither_the_grade_nor_the_text(tmp_path):
    submissions = tmp_path / "class"
    (submissions / "ann").mkdir(parents=True)
    shutil.copy(EX1 / "bad_no_bias.py", submissions / "ann" / "exercise1.py")
    out = tmp_path / "book"
    (out / "feedback" / "ann" / "exercise1.html").mkdir(parents=True)  # where the page should go: a folder
    result = batch(submissions, "--out", out, "--workers", 1)
    assert result.exit_code == 0, result.output
    assert "1 HTML feedback page could not be written" in result.output
    cell = json.loads((out / "grades.json").read_text())["students"]["ann"]["exercises"]["exercise1"]
    assert cell["status"] == "ok" and cell["score"] == 18 and cell["message"].startswith("HTML feedback not written")
    assert cell["diagnoses"] and "Score: 18.0 / 19.0" in (out / "feedback" / "ann" / "exercise1.txt").read_text()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_batch_resumes_without_grading_anyone_twice(graded_class, tmp_path, sig):
    submissions, uninterrupted, _ = graded_class
    out = tmp_path / "gradebook"
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
                             "--workers", "1", "--timeout", "2"], cwd=REPO, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not graded_cells(out) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == (130 if sig == signal.SIGTERM else -signal.SIGKILL), stderr.decode()
    if sig == signal.SIGTERM:
        assert "run the same command again to resume" in stderr.decode()
    before = graded_cells(out)
    assert 0 < len(before) < 10, "the kill came after the first result and before the last"
    json.loads((out / "grades.json").read_text())  # whole, not torn
    for _ in range(100):  # workers notice their batch is gone, even when it was SIGKILLed
        if not workers_of(out):
            break
        time.sleep(0.1)
    assert workers_of(out) == []
    stamps = {key: (out / "feedback" / key[0] / f"{key[1]}.txt").stat().st_mtime_ns for key in before}

    result = batch(submissions, "--out", out, "--workers", 2, "--timeout", 2)
    assert result.exit_code == 0, result.output
    assert f"Graded {10 - len(before)}, kept {len(before)}" in result.output
    after = graded_cells(out)
    assert {key: after[key] for key in before} == before
    assert {key: (out / "feedback" / key[0] / f"{key[1]}.txt").stat().st_mtime_ns for key in before} == stamps
    assert verdicts(out) == verdicts(uninterrupted)


def test_a_changed_file_is_graded_again_and_force_grades_all(tmp_path):
    submissions = tmp_path / "class"
    for student, sample in (("ann", "good_loops.py"), ("ben", "bad_no_stride.py")):
        (submissions / student).mkdir(parents=True)
        shutil.copy(EX1 / sample, submissions / student / "exercise1.py")
    out = tmp_path / "book"
    assert batch(submissions, "--out", out, "--workers", 1).exit_code == 0
    ben = scores(out)["ben"]["exercise1"]
    assert ben < 19
    shutil.copy(EX1 / "good_padded_list.py", submissions / "ben" / "exercise1.py")
    again = batch(submissions, "--out", out, "--workers", 1)
    assert "Graded 1, kept 1" in again.output
    assert scores(out) == {"ann": {"exercise1": 19}, "ben": {"exercise1": 19}}
    assert "Graded 0, kept 2" in batch(submissions, "--out", out).output
    assert "Graded 2, kept 0" in batch(submissions, "--out", out, "--force").output
    other_seed = batch(submissions, "--out", out, "--seed", 7)
    assert "Graded 2, kept 0" in other_seed.output  # other hidden inputs: not the same grade
    assert {c["seed"] for row in json.loads((out / "grades.json").read_text())["students"].values()
            for c in row["exercises"].values()} == {7}


def sandbox_children(worker: int) -> list[int]:
    """The sandbox children grading for `worker`: its own, or its zygote's (which forks them)."""
    def children(pid: int) -> list[int]:
        try:
            return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []

    found = []
    for child in children(worker):  # (the worker's other children, e.g. a short probe fork, are not graders)
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"zygote_server" in command:
            found += children(child)
        elif b"grader.sandbox.child" in command:
            found.append(child)
    return found


def test_a_dead_worker_costs_one_cell_and_a_rerun_finishes(tmp_path):
    submissions = tmp_path / "class"
    (submissions / "a-loop").mkdir(parents=True)
    (submissions / "a-loop" / "exercise1.py").write_text("while True:\n    pass\n")
    (submissions / "b-good").mkdir()
    shutil.copy(EX1 / "good_einsum.py", submissions / "b-good" / "exercise1.py")
    out = tmp_path / "book"
    proc = subprocess.Popen([sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out),
                             "--workers", "1", "--timeout", "60"], cwd=REPO, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sandbox = None
    deadline = time.monotonic() + 120
    while sandbox is None and time.monotonic() < deadline:  # the worker is busy with a-loop's endless loop
        time.sleep(0.1)
        for worker in workers_of(out):
            children = sandbox_children(worker)
            if children:
                sandbox, busy = children[0], worker
    assert sandbox is not None, "the worker never started grading"
    os.kill(busy, signal.SIGKILL)
    os.kill(sandbox, signal.SIGKILL)  # orphaned by the worker's death, it would spin until its loop ends
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stdout + stderr
    assert "1 could not be graded this time" in stdout
    data = json.loads((out / "grades.json").read_text())["students"]
    lost = data["a-loop"]["exercises"]["exercise1"]
    assert lost["status"] == "error" and "worker died" in lost["message"] and lost["sha256"] is None
    assert data["b-good"]["exercises"]["exercise1"]["score"] == 19  # a new worker took over

    rerun = batch(submissions, "--out", out, "--timeout", 1)
    assert rerun.exit_code == 0 and "Graded 1, kept 1" in rerun.output
    assert scores(out) == {"a-loop": {"exercise1": 0}, "b-good": {"exercise1": 19}}


def test_bad_input_is_one_message_and_exit_2(tmp_path):
    missing = batch(tmp_path / "nowhere")
    assert missing.exit_code == 2 and "No such folder" in missing.output
    (tmp_path / "empty").mkdir()
    assert "holds no student folders" in batch(tmp_path / "empty").output
    (tmp_path / "class" / "zoe").mkdir(parents=True)
    (tmp_path / "class" / "zoe" / "notes.md").write_text("hello")
    nothing = batch(tmp_path / "class")
    assert nothing.exit_code == 2 and "holds an exercise file" in nothing.output
    (tmp_path / "class" / "zoe" / "exercise1.py").write_text("")
    inside = batch(tmp_path / "class", "--out", tmp_path / "class" / "grades")
    assert inside.exit_code == 2 and "inside the submissions folder" in inside.output
    assert batch(tmp_path / "class", "--exercise", "exercise9").exit_code == 2
    book = tmp_path / "gradebook"
    book.mkdir()
    (book / "grades.json").write_text("{ torn")
    torn = batch(tmp_path / "class")
    assert torn.exit_code == 2 and "move it away" in torn.output
    assert (book / "grades.json").read_text() == "{ torn"  # never overwritten
    Gradebook(book, tmp_path / "another-class").save()
    mixed = batch(tmp_path / "class")
    assert mixed.exit_code == 2 and "holds the gradebook of" in mixed.output
    (book / "grades.json").unlink()
    with (book / ".grades.lock").open("w") as held:  # as another batch running on this gradebook holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = batch(tmp_path / "class")
    assert busy.exit_code == 2 and "Another cnn-grade batch" in busy.output
    for result in (missing, nothing, inside, torn, mixed, busy):
        assert "Traceback" not in result.output
