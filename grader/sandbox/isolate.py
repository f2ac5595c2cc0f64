"""Linux namespaces around the child: its own process tree and its own view of the file system.

The sandbox child forks twice on its way in (all before any student code exists):

    A  the process the grader started; stays outside, reports how C ended, dies with the grader
    └─ B  pid 1 of a new PID namespace, with a private mount namespace; reaps, never runs student code
       └─ C  pid 2: imports numpy/torch, drops privileges, loads and serves the student's file

In there, student code cannot see or signal the grader (no pid of it exists in the namespace, and
pid 1 ignores signals it has no handler for), /proc shows only the namespace, and when B exits the
kernel kills every process left in the namespace: setsid, a double fork or leaving the pids cgroup
no longer gets a process out. The mount namespace (mounts.py) hides the instructor's keys, the
cgroup file system and the libraries an exercise forbids, and leaves only the working folder writable.

Where the system does not allow namespaces (not root, a locked-down container), `enter` returns
False and the child runs as a plain process with the older safeguards (see limits.py). Where the
namespaces exist but the mounts fail, B says so and exits; the parent then starts a plain child.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys

from . import mounts

CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
LAST_CAPABILITY = 63  # capability numbers go up to about 40 today; dropping unknown ones is harmless


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def enter(config: dict) -> bool:
    """Fork into fresh PID and mount namespaces; return True in C (isolated) or False (not possible here).

    A and B never return from this function: they wait for their child and exit the way it did.
    """
    if not config.get("isolate") or not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False
    libc = _libc()
    _join_cgroup(config.get("cgroup"))
    if libc.unshare(CLONE_NEWPID | CLONE_NEWNS) != 0:
        return False
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)  # A dies with the grader
    report_r, report_w = os.pipe()  # B tells A how C ended
    b = os.fork()
    if b:
        os.close(report_w)
        _close_protocol(keep=report_r)
        _act_as_outside(b, report_r)
    os.close(report_r)
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)  # B (and so the namespace) dies with A
    try:
        mounts.prepare(libc, config, workdir=os.getcwd())
    except OSError as e:
        # A half-built view of the file system is worse than none: the parent sees this and starts a plain child.
        os.write(2, f"cnn-grade sandbox: could not isolate the file system: {e}\n".encode())
        os._exit(70)
    c = os.fork()
    if c == 0:
        os.close(report_w)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        return True
    _close_protocol(keep=report_w)
    _act_as_init(c, report_w)
    return True  # not reached


def _join_cgroup(folders: list[str] | None) -> None:
    """Enter the sandbox's cgroups before forking, so B and C are counted and found from the start."""
    for folder in folders or ():
        try:
            with open(os.path.join(folder, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            pass  # the parent adds this process too; the cap is then best effort


def _close_protocol(keep: int) -> None:
    """Let go of the pipes to the grader (only C may talk on them, and /proc/1/fd must not reach them); keep `keep`."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(null, fd)
    os.close(null)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1024)


def _act_as_outside(b: int, report_r: int) -> None:
    """A: wait for B, then end exactly as C did (the grader reads C's fate from A's exit status)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's business
    os.waitpid(b, 0)
    with os.fdopen(report_r, "rb") as f:
        how = f.read(64).decode("ascii", "replace").split()
    if len(how) == 2 and how[0] == "signal" and how[1].isdigit():
        number = int(how[1])
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # die by the same signal, without a core file
        except (OSError, ValueError):
            pass
        try:
            if number not in (signal.SIGKILL, signal.SIGSTOP):  # those two have no handler to reset
                signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
        except (OSError, ValueError):
            pass
        os._exit(128 + number)
    os._exit(int(how[1]) if len(how) == 2 and how[0] == "exit" and how[1].isdigit() else 70)


def _act_as_init(c: int, report_w: int) -> None:
    """B: reap everything (orphans land here), and exit as soon as C is gone, taking the namespace with it."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(number, signal.SIG_DFL)  # pid 1 without handlers: signals from inside are dropped
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(70)
        except InterruptedError:
            continue
        if pid != c:
            continue
        if os.WIFSIGNALED(status):
            how = f"signal {os.WTERMSIG(status)}"
        else:
            how = f"exit {os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70}"
        os.write(report_w, how.encode())
        os._exit(0)


def drop_capabilities() -> bool:
    """C, still root: give up every capability for good, so root in here can't mount, trace or escape."""
    libc = _libc()
    for cap in range(LAST_CAPABILITY + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails past the last one; that's fine

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3: two 32-bit words
    ok = libc.capset(ctypes.byref(header), data) == 0
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    return ok


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """Can this process give a child its own PID and mount namespaces (tried in a throwaway fork)?"""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False
    unshare = _libc().unshare  # looked up before the fork: the fork of a threaded process should only call it
    pid = os.fork()
    if pid == 0:
        os._exit(0 if unshare(CLONE_NEWPID | CLONE_NEWNS) == 0 else 1)
    return os.waitpid(pid, 0)[1] == 0
