"""The limits around student code: set in the child, chosen and described by the parent, stragglers ended.

Everything here degrades gracefully: rlimits, the parent-death signal and dropping root exist only on
some systems, and the report says which limits were actually in force.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
from pathlib import Path

from .cgroups import state_and_session

EXTRA_PROCESSES = 64  # processes and threads student code may add to what its user already runs
FILE_SIZE_MB = 64  # the largest file student code may write (a full disk would break the grader too)
TOKEN_VARIABLE = "CNN_SANDBOX_TOKEN"  # marks every process of one sandbox, even those that leave its group
UNPRIVILEGED_USER = "nobody"


# -- child side ----------------------------------------------------------------------------------
def cap_memory(memory_mb: int | None) -> bool:
    """Cap the memory this process may use (RLIMIT_DATA); True if the cap took effect.

    RLIMIT_DATA counts what the process can write into: the heap and private writable mappings, which is
    where NumPy and torch put arrays. Unlike RLIMIT_AS it leaves out address space that is only reserved,
    which the CUDA build of torch reserves by the gigabyte at import, on machines without a GPU too.
    Memory it misses (shared mappings, /dev/shm) is counted by the memory cgroup where there is one.
    """
    if not memory_mb:
        return False
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (memory_mb * 2**20, memory_mb * 2**20))
        return True
    except (ImportError, AttributeError, ValueError, OSError):  # Windows, or a system without RLIMIT_DATA
        return False


def apply_in_child(processes: int | None, *, check_parent: bool = True) -> dict:
    """Set the other rlimits and the parent-death signal in this (child) process; return what took effect."""
    applied: dict = {"uid": os.getuid() if hasattr(os, "getuid") else None}
    try:
        import resource
    except ImportError:  # Windows: no rlimits; timeouts and the process boundary still hold
        return applied

    def cap(name: str, value: int) -> bool:
        if not hasattr(resource, name):
            return False
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
            return True
        except (ValueError, OSError):
            return False

    if cap("RLIMIT_FSIZE", FILE_SIZE_MB * 2**20):
        applied["file_mb"] = FILE_SIZE_MB
    cap("RLIMIT_CORE", 0)  # a segfault leaves no core file behind
    # RLIMIT_NPROC counts every task of the user; root is exempt, so it only means something otherwise.
    if processes and applied["uid"] not in (None, 0):
        if cap("RLIMIT_NPROC", _tasks_of(applied["uid"]) + processes):
            applied["processes"] = processes
    applied["parent_death"] = _die_with_parent(check_parent)
    return applied


def _tasks_of(uid: int) -> int:
    """How many processes and threads this user runs now (Linux /proc; 0 where unknown)."""
    count = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if entry.stat().st_uid == uid:
                count += sum(1 for _ in (entry / "task").iterdir())
        except OSError:
            continue
    return count


def _die_with_parent(check_parent: bool = True) -> bool:
    """Ask Linux to SIGKILL this process when the grader dies, so no student code outlives it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            return False
    except (OSError, AttributeError):
        return False
    # The parent was already gone before the signal was armed (in a PID namespace pid 1 *is* the parent).
    if check_parent and os.getppid() == 1:
        os._exit(1)
    return True


# -- parent side ---------------------------------------------------------------------------------
def hide_grader() -> bool:
    """Make this (grader) process non-dumpable: code of the same user can no longer read its
    /proc/PID/environ (the instructor's seed) or attach to it. Its children start dumpable again."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) == 0  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        return False


def unprivileged_user(paths: list[str]) -> tuple[int, int, str] | str:
    """(uid, gid, name) to run student code as when the grader is root, or the reason it can't be done."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the grader does not run as root"
    try:
        import pwd

        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except (ImportError, KeyError):
        return f"this system has no user {UNPRIVILEGED_USER!r}"
    for path in paths:
        blocked = _unreachable(Path(path))
        if blocked:
            return f"user {UNPRIVILEGED_USER!r} cannot reach {blocked}"
    return entry.pw_uid, entry.pw_gid, UNPRIVILEGED_USER


def _unreachable(path: Path) -> str:
    """The first folder on the way to `path` that other users may not enter, or '' if there is none."""
    try:
        path = path.resolve()
    except OSError:
        return str(path)
    for folder in (*reversed(path.parents), path):
        try:
            mode = folder.stat().st_mode
        except OSError:
            return str(folder)
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return str(folder)
    return ""


def describe(applied: dict, *, timeout: float, total: float | None, output_kb: int, user: str | None,
             why_not_user: str) -> tuple[str, ...]:
    """The limits in force, in words, for the report."""
    words = [f"{timeout:g} s per call"]
    if total:
        words.append(f"{total:g} s in all")
    words.append(f"{applied['memory_mb']:,} MiB of memory" if applied.get("memory_mb") else "memory not capped here")
    if applied.get("memory_mb"):
        words.append("all the memory it holds counted, /dev/shm included" if applied.get("memory_all")
                     else "heap and arrays counted (shared memory is not, on this system)")
    if applied.get("gpu_memory_mb"):
        words.append(f"{applied['gpu_memory_mb']:,} MiB of GPU memory (PyTorch's allocator)")
    elif applied.get("device", "cpu") != "cpu":
        words.append("GPU memory not capped")
    if applied.get("isolated"):
        words.append("its own /dev/shm, emptied with the run")
    words.append(f"{output_kb} KiB of printed output kept")
    if applied.get("processes"):
        words.append(f"{applied['processes']} extra processes")
    else:
        words.append("process count not capped here")
    if applied.get("file_mb"):
        words.append(f"files up to {applied['file_mb']} MiB")
    words.append(f"run as user {user}" if user else f"run as the grader's user ({why_not_user})")
    if applied.get("isolated"):
        words.append("own process tree and file-system view (no grader processes or keys in sight)")
    words.append("every process it started ended with the run")
    return tuple(words)


def end_stragglers(token: str, session: int | None) -> int:
    """SIGKILL every process of one sandbox that left its process group (setsid, double fork); count them."""
    if not sys.platform.startswith("linux"):
        return 0
    marker = f"{TOKEN_VARIABLE}={token}".encode()
    ended = 0
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        try:
            state, sid = state_and_session(entry)
            if state in "ZX":
                continue
            in_session = session is not None and sid == session
            if not in_session and marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            os.kill(pid, signal.SIGKILL)
            ended += 1
        except (OSError, ValueError):
            continue
    return ended
