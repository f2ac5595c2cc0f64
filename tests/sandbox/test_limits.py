"""The limits around student code: processes, memory, files, total time, the user, and no survivors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from grader.grading.engine import grade_exercise
from grader.sandbox import limits
from grader.sandbox.parent import Sandbox

LINUX = sys.platform.startswith("linux")
pytestmark = pytest.mark.skipif(not LINUX, reason="the hardening below is Linux's (rlimits, /proc, prctl)")


def alive(pid: int) -> bool:
    """Is `pid` a live (not zombie) process?"""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in "ZX"


def marked(token: str) -> list[int]:
    """Processes whose command line holds `token`."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if token.encode() in entry.joinpath("cmdline").read_bytes() and alive(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_processes_that_leave_the_group_are_ended_with_the_run(tmp_path):
    token = f"linger-{os.getpid()}-{time.time_ns()}"
    source = f"""
        import os
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            if os.fork() == 0:  # a daemon: new session, then a grandchild in yet another one that sleeps on
                os.setsid()
                if os.fork() == 0:
                    os.setsid()
                    os.execvp("sleep", ["{token}", "300"])  # argv[0] carries the marker
                os._exit(0)
            raise ValueError("no")
        """
    report = grade_exercise("exercise1", submission=write(tmp_path, "exercise1.py", source))
    assert report.score == 0
    time.sleep(0.3)
    assert marked(token) == []
    assert any("left" in note and "ended" in note for note in report.notes), report.notes


def test_a_fork_bomb_hits_the_process_cap(tmp_path):
    sandbox = Sandbox(textwrap.dedent("""
        import os, time
        def bomb():
            started = 0
            try:
                while started < 10_000:
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                    started += 1
            except OSError as e:
                return [started, e.errno]
            return [started, 0]
        """), str(tmp_path / "exercise1.py"))
    with sandbox:
        started, errno = sandbox.call("bomb")
        capped = sandbox.applied.get("processes")
    if not capped:
        pytest.skip("no process cap on this system (root without a pids cgroup)")
    assert started <= capped + 8 and errno == 11  # EAGAIN
    assert "extra processes" in " ".join(sandbox.limits_in_force())


def test_running_out_of_memory_is_its_own_status(tmp_path):
    source = """
        import numpy as np
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            hoard = [np.ones(2**27) for _ in range(20)]  # 20 GiB, far past the cap
            return hoard
        """
    report = grade_exercise("exercise1", submission=write(tmp_path, "exercise1.py", source), memory_mb=400)
    statuses = {c.status for c in report.checks}
    assert "memory" in statuses and "passed" not in statuses, statuses
    memory = next(c for c in report.checks if c.status == "memory")
    assert "out of memory" in memory.message
    assert "400 MiB of memory" in report.limits


def test_a_huge_file_is_refused(tmp_path):
    sandbox = Sandbox(textwrap.dedent("""
        def scribble():
            with open("big.bin", "wb") as f:
                f.write(b"x" * (200 * 2**20))
        """), str(tmp_path / "exercise1.py"))
    with sandbox:
        with pytest.raises(Exception) as caught:
            sandbox.call("scribble")
    assert "File too large" in str(caught.value) or "EFBIG" in str(caught.value), caught.value


def test_the_total_time_limit_stops_the_run(tmp_path):
    source = """
        import time
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            time.sleep(0.6)
            raise ValueError("slow and wrong")
        """
    report = grade_exercise("exercise1", submission=write(tmp_path, "exercise1.py", source), total_timeout=2.0)
    last = report.checks[-1]
    assert last.status == "timeout" and "2 s in all" in last.message
    assert "2 s in all" in report.limits
    assert report.duration < 10


def test_the_report_states_the_limits_in_force(tmp_path):
    key = Path(__file__).resolve().parents[2] / "solutions" / "exercise1.py"
    report = grade_exercise("exercise1", submission=key, timeout=7)
    words = " ".join(report.limits)
    for part in ("7 s per call", "600 s in all", "2,048 MiB of memory", "256 KiB of printed output", "run as"):
        assert part in words, words


def test_student_code_dies_with_the_grader(tmp_path):
    """SIGKILL the grading process mid-call: the child running student code must not live on."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from grader.sandbox.parent import Sandbox
        sandbox = Sandbox("import time\\ndef wait():\\n    time.sleep(300)\\n", "x.py")
        sandbox.start()
        print(sandbox.proc.pid, flush=True)
        sandbox.run("wait", timeout=300)
        """)
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(grader.stdout.readline())
    time.sleep(1.0)  # the call is under way
    assert alive(child)
    grader.send_signal(signal.SIGKILL)
    grader.wait(timeout=10)
    deadline = time.time() + 5
    while alive(child) and time.time() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_root_runs_student_code_as_nobody_only_where_it_can(tmp_path, monkeypatch):
    base = Path(tempfile.mkdtemp())
    base.chmod(0o755)  # only `private` below is closed to other users
    hidden = base / "private"
    (hidden / "python").mkdir(parents=True)
    hidden.chmod(0o700)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert limits.unprivileged_user([str(hidden / "python")]) == f"user 'nobody' cannot reach {hidden}"
    hidden.chmod(0o755)
    got = limits.unprivileged_user([str(hidden / "python")])
    assert isinstance(got, tuple) and got[2] == "nobody"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert limits.unprivileged_user([str(hidden)]) == "the grader does not run as root"
    hidden.chmod(0o700)
    import shutil

    shutil.rmtree(base)


@pytest.mark.skipif(not isinstance(__import__("grader.sandbox.provision").sandbox.provision.run_as(), tuple),
                    reason="this Python is not reachable by user nobody (e.g. installed under /root)")
def test_as_root_the_student_runs_as_nobody(tmp_path):
    sandbox = Sandbox("import os\ndef who():\n    return [os.getuid(), os.getgid()]\n", str(tmp_path / "x.py"))
    with sandbox:
        uid, gid = sandbox.call("who")
    assert uid != 0 and gid != 0


def test_json_report_lists_the_limits(tmp_path):
    key = Path(__file__).resolve().parents[2] / "solutions" / "exercise1.py"
    done = subprocess.run([sys.executable, "-m", "grader", "exercise1", "--file", str(key), "--format", "json",
                           "--memory", "1024", "--total-timeout", "90"], capture_output=True, text=True, timeout=120)
    data = json.loads(done.stdout)
    assert "1,024 MiB of memory" in data["limits"] and "90 s in all" in data["limits"]


def test_the_grader_hides_its_environment_from_same_user_code():
    """After starting a sandbox the grading process is not dumpable: /proc/PID/environ is closed to its user."""
    script = textwrap.dedent(f"""
        import ctypes, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from grader.sandbox.parent import Sandbox
        libc = ctypes.CDLL(None)
        before = libc.prctl(3, 0, 0, 0, 0)  # PR_GET_DUMPABLE
        with Sandbox("x = 1\\n", "x.py") as sandbox:
            sandbox.start()
        print(before, libc.prctl(3, 0, 0, 0, 0))
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["1", "0"], done.stderr
