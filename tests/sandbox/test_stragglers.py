"""Stragglers are processes student code left running; a process of the run that is still exiting is not one."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from grader.grading.engine import grade_exercise
from grader.sandbox import limits
from grader.sandbox.cgroups import state_and_session

ROOT = Path(__file__).resolve().parents[2]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

def _proc_entry(tmp_path: Path, *, flags: int = 0x400040, session: int = 4242, pending: str = "0") -> Path:
    """A /proc/PID folder as the kernel writes it (stat and status), for one process of the sandbox's session."""
    entry = tmp_path / "4243"
    entry.mkdir()
    entry.joinpath("stat").write_text(f"4243 (python (x)) R 4242 4242 {session} 0 -1 {flags} 316 0 0 0 0 0 0 0 20\n")
    entry.joinpath("status").write_text(f"Name:\tpython\nState:\tR (running)\nSigPnd:\t{pending}\nShdPnd:\t0\n")
    return entry


def test_a_running_process_reads_as_its_state_and_session(tmp_path):
    assert state_and_session(_proc_entry(tmp_path)) == ("R", 4242)


@pytest.mark.parametrize("why", ["exiting", "killed", "detached"])
def test_a_process_already_on_its_way_out_reads_as_gone(tmp_path, why):
    # On a busy machine a killed child that held torch can take a second to exit; it was ended,
    # not left running, and "Your code left 1 process(es) running" must not be said of it.
    entry = _proc_entry(tmp_path, **{"exiting": {"flags": 0x400044}, "killed": {"pending": "100"},
                                     "detached": {"session": 0}}[why])
    assert state_and_session(entry)[0] == "X"


@linux_only
def test_a_process_left_running_is_still_counted():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        signal.pause()
        os._exit(0)
    try:
        # Until the child has called setsid: before that it is in this session, which reads as 0
        # where the tests run without a session leader in their PID namespace (a CI container).
        deadline = time.monotonic() + 30
        while os.getsid(pid) != pid and time.monotonic() < deadline:
            time.sleep(0.01)
        assert os.getsid(pid) == pid
        assert state_and_session(Path(f"/proc/{pid}"))[0] != "X"
        assert limits.end_stragglers("no-such-token", session=pid) == 1
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


def test_grading_a_key_again_and_again_never_reports_stragglers():
    for _ in range(6):
        report = grade_exercise("exercise4", submission=ROOT / "solutions" / "exercise4.py")
        assert report.all_passed
        assert not any("process(es) running" in note for note in report.notes), report.notes
