"""The limits around student code: set in the child, chosen and described by the parent, stragglers ended.

Everything here degrades gracefully: rlimits, the parent-death signal and dropping root exist only on
some systems, and the report says which limits were actually in force.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
import time
from pathlib import Path

EXTRA_PROCESSES = 64  # processes and threads student code may add to what its user already runs
FILE_SIZE_MB = 64  # the largest file student code may write (a full disk would break the grader too)
TOKEN_VARIABLE = "CNN_SANDBOX_TOKEN"  # marks every process of one sandbox, even those that leave its group
UNPRIVILEGED_USER = "nobody"


# -- child side ----------------------------------------------------------------------------------
def apply_in_child(memory_mb: int | None, processes: int | None, *, check_parent: bool = True) -> dict:
    """Set the rlimits and the parent-death signal in this (child) process; return what took effect."""
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

    if memory_mb and (cap("RLIMIT_AS", memory_mb * 2**20) or cap("RLIMIT_DATA", memory_mb * 2**20)):
        applied["memory_mb"] = memory_mb
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


class PidsCgroup:
    """A Linux pids cgroup around one sandbox (root only): caps its process count, and finds every member at the end.

    Unlike RLIMIT_NPROC (which root ignores) it counts only this sandbox's processes, and a process
    cannot leave it by setsid or a double fork.
    """

    ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))  # cgroup v1, then v2

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def create(cls, token: str, max_tasks: int) -> "PidsCgroup | None":
        """A fresh cgroup allowing `max_tasks` tasks, or None where the system does not let us make one."""
        if not sys.platform.startswith("linux") or os.geteuid() != 0:
            return None
        for root in cls.ROOTS:
            if not (root / "cgroup.procs").exists():
                continue
            if root.name != "pids" and "pids" not in _read(root / "cgroup.subtree_control"):
                continue
            _sweep(root)
            folder = root / f"cnn-grade-{token}"
            try:
                folder.mkdir()
                (folder / "pids.max").write_text(str(max_tasks))
                return cls(folder)
            except OSError:
                try:
                    folder.rmdir()
                except OSError:
                    pass
        return None

    def add(self, pid: int) -> bool:
        """Move process `pid` (and its threads) into the cgroup."""
        try:
            (self.folder / "cgroup.procs").write_text(str(pid))
            return True
        except OSError:
            return False

    def members(self) -> list[int]:
        """The live processes in the cgroup."""
        alive = []
        for pid in (int(p) for p in _read(self.folder / "cgroup.procs").split()):
            try:
                if _state_and_session(Path(f"/proc/{pid}"))[0] not in "ZX":  # not dead-and-unreaped
                    alive.append(pid)
            except (OSError, ValueError):
                pass
        return alive

    def count_outside(self, session: int) -> int:
        """How many live members have left `session` (setsid, a double fork): stragglers, to be ended."""
        count = 0
        for pid in self.members():
            try:
                count += _state_and_session(Path(f"/proc/{pid}"))[1] != session
            except (OSError, ValueError):
                pass
        return count

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup, until it is empty."""
        for _ in range(50):  # a fork racing with the kill can add a member: look again until empty
            pids = self.members()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        """Delete the (empty) cgroup."""
        self.kill_all()
        for _ in range(100):  # a process that held a lot of memory can take a moment to finish exiting
            try:
                self.folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # EBUSY: a member is still exiting
                time.sleep(0.05)


STALE_SECONDS = 600  # an empty sandbox cgroup this old belongs to a grader that was killed before it could tidy up


def _sweep(root: Path) -> None:
    """Remove empty, old cnn-grade cgroups left by graders that were killed (rmdir fails on a cgroup in use)."""
    now = time.time()
    for folder in root.glob("cnn-grade-*"):
        try:
            if now - folder.stat().st_mtime > STALE_SECONDS and not _read(folder / "cgroup.procs").strip():
                folder.rmdir()
        except OSError:
            continue


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def describe(applied: dict, *, timeout: float, total: float | None, output_kb: int, user: str | None,
             why_not_user: str) -> tuple[str, ...]:
    """The limits in force, in words, for the report."""
    words = [f"{timeout:g} s per call"]
    if total:
        words.append(f"{total:g} s in all")
    words.append(f"{applied['memory_mb']:,} MiB of memory" if applied.get("memory_mb") else "memory not capped here")
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
            state, sid = _state_and_session(entry)
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


def _session_of(entry: Path) -> int:
    return _state_and_session(entry)[1]


def _state_and_session(entry: Path) -> tuple[str, int]:
    # /proc/PID/stat: "pid (comm) state ppid pgrp session ..."; comm may hold spaces and parentheses.
    fields = entry.joinpath("stat").read_text().rpartition(")")[2].split()
    return fields[0], int(fields[3])
