"""The child's own PID and mount namespaces: what student code can see and do in there, and the fallback without."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.errors import ChildDied, StudentRaised
from grader.grading.exercises import ARRAY_LIBRARIES
from grader.sandbox import isolate
from grader.sandbox.parent import Sandbox
from grader.sandbox.provision import GRADER_ROOT

needs_namespaces = pytest.mark.skipif(not isolate.available(), reason="namespaces need root on Linux")

LOOK_AROUND = """
    import os, tempfile
    def look():
        def can_write(path):
            try:
                open(os.path.join(path, ".cnn-grade-probe"), "w").close()
            except OSError:
                return False
            os.remove(os.path.join(path, ".cnn-grade-probe"))
            return True
        solutions = os.path.join(GRADER_ROOT, "solutions")
        caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
        return {"pid": os.getpid(), "ppid": os.getppid(),
                "procs": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                "solutions": os.listdir(solutions) if os.path.isdir(solutions) else None,
                "cgroup": os.listdir("/sys/fs/cgroup") if os.path.isdir("/sys/fs/cgroup") else None,
                "grader_writable": can_write(os.path.join(GRADER_ROOT, "grader")),
                "workdir_writable": can_write("."), "caps": caps,
                "etc_writable": can_write("/etc"), "tmp_writable": can_write("/tmp"),
                "tempfile": tempfile.mkstemp()[1], "home": os.environ.get("HOME"),
                "devnull": opens("/dev/null", "w"), "block_devices": [d for d in blocks() if opens(d, "rb")],
                "proc_sys_writable": opens("/proc/sys/kernel/hostname", "w"),
                "sysrq_writable": opens("/proc/sysrq-trigger", "w")}

    def opens(path, mode):
        try:
            open(path, mode).close()  # opened, never written
        except OSError:
            return False
        return True

    def blocks():
        import stat
        found = []
        for name in os.listdir("/dev"):
            try:
                if stat.S_ISBLK(os.stat(os.path.join("/dev", name)).st_mode):
                    found.append(os.path.join("/dev", name))
            except OSError:
                pass
        return found
"""


def sandbox(tmp_path: Path, source: str, **options) -> Sandbox:
    options.setdefault("timeout", 10.0)
    return Sandbox(textwrap.dedent(source).replace("GRADER_ROOT", repr(GRADER_ROOT)), str(tmp_path / "exercise1.py"),
                   **options)


@needs_namespaces
def test_the_child_sees_only_its_own_namespace(tmp_path):
    with sandbox(tmp_path, LOOK_AROUND) as box:
        seen = box.call("look")
        limits = box.limits_in_force()
    assert seen["pid"] == 2 and seen["ppid"] == 1  # pid 1 is the namespace's reaper, not the grader
    assert seen["procs"] == [1, 2]  # no pid of the grader, of pytest or of anything else on the machine
    assert os.getpid() not in seen["procs"] or os.getpid() in (1, 2)
    assert seen["solutions"] in (None, [])  # the instructor's keys are out of sight
    assert seen["cgroup"] == []  # so is the cgroup file system (no leaving the pids cgroup)
    assert seen["grader_writable"] is False and seen["workdir_writable"] is True
    assert int(seen["caps"], 16) == 0  # root in there, but without a single capability
    # Nothing is writable but the working folder (also HOME and TMPDIR), and no disk can be opened.
    assert seen["etc_writable"] is False and seen["tmp_writable"] is False
    workdir = os.path.realpath(box.proc and box._workdir.name)
    assert os.path.dirname(seen["tempfile"]) == workdir and seen["home"] == workdir
    assert seen["devnull"] is True and seen["block_devices"] == []
    assert seen["proc_sys_writable"] is False and seen["sysrq_writable"] is False
    assert any("own process tree" in words for words in limits)


@needs_namespaces
def test_a_forbidden_library_is_refused_even_past_the_import_blocker(tmp_path):
    source = """
        import sys, pkgutil
        def sneak():
            finders = getattr(sys, "meta" + "_path")
            finders[:] = [f for f in finders if "Block" not in type(f).__name__]
            return pkgutil.resolve_name("torch").nn.functional.conv2d
    """
    with sandbox(tmp_path, source, blocked=ARRAY_LIBRARIES) as box:
        with pytest.raises(StudentRaised) as raised:
            box.call("sneak")
    assert raised.value.info.type == "ImportError"
    assert "not allowed in this exercise" in raised.value.info.message


@needs_namespaces
def test_the_grader_cannot_be_signalled_from_inside(tmp_path):
    source = """
        import os, signal
        def hit():
            for sig in (signal.SIGTERM, signal.SIGSTOP, signal.SIGKILL):
                os.kill(os.getppid(), sig)  # pid 1 of the namespace: no handler, so the kernel drops them
            return os.getppid()
    """
    with sandbox(tmp_path, source) as box:
        assert box.call("hit") == 1
        assert box.call("hit") == 1  # the child (and its reaper) are still there


@needs_namespaces
def test_a_daemon_dies_with_the_namespace(tmp_path):
    token = f"ns-daemon-{os.getpid()}-{time.time_ns()}"
    source = f"""
        import os
        def leave():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.closerange(0, 256)
                    os.execve("/bin/sleep", ["{token}", "300"], {{}})
                os._exit(0)
            return True
    """
    with sandbox(tmp_path, source) as box:
        assert box.call("leave") is True
        time.sleep(0.3)
    for _ in range(50):
        if not [p for p in Path("/proc").glob("[0-9]*") if _cmdline_holds(p, token)]:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the daemon outlived the run")


@needs_namespaces
def test_the_childs_death_is_reported_as_it_happened(tmp_path):
    source = """
        import os, signal
        def die(sig):
            os.kill(os.getpid(), sig)
    """
    with sandbox(tmp_path, source) as box:
        with pytest.raises(ChildDied) as died:
            box.call("die", int(signal.SIGSEGV))
    assert "SIGSEGV" in str(died.value)


def test_without_namespaces_the_child_still_serves_calls(tmp_path):
    source = """
        import os
        def where():
            return os.getpid()
    """
    with sandbox(tmp_path, source, isolate=False) as box:
        pid = box.call("where")
        limits = box.limits_in_force()
    assert pid == box.proc.pid  # the plain child: the process the grader started
    assert not any("own process tree" in words for words in limits)


def _cmdline_holds(entry: Path, token: str) -> bool:
    try:
        return token.encode() in entry.joinpath("cmdline").read_bytes()
    except OSError:
        return False


if not sys.platform.startswith("linux"):
    pytestmark = pytest.mark.skip(reason="namespaces are Linux's")


@needs_namespaces
def test_a_system_that_refuses_the_mounts_gets_a_plain_child(tmp_path, monkeypatch):
    from grader.sandbox import parent

    box = sandbox(tmp_path, "import os\ndef where():\n    return os.getpid()\n")
    # A folder that must end up read-only but cannot (the working folder stays writable): the reaper gives up.
    monkeypatch.setattr(parent, "readonly_folders", lambda: [box._workdir.name])
    with box:
        assert box.call("where") == box.proc.pid  # served, by a child outside any namespace
        assert box.applied.get("isolated") is False
        output, _ = box.output
    assert "could not isolate" not in output  # the grader's message is not shown as the student's output
