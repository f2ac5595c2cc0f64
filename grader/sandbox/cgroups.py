"""Linux cgroups around one sandbox (root only): a process cap, a memory cap, and every member found at the end.

Unlike RLIMIT_NPROC (which root ignores) the pids cap counts only this sandbox's processes; unlike
RLIMIT_DATA the memory cap counts all the memory the run holds: heap, shared mappings and the pages of
its /dev/shm. A process cannot leave its cgroups by setsid or a double fork. Both cgroup versions are
served: v2 (one folder for both controllers) and v1 (a hierarchy per controller), wherever each
controller is found; a controller the system does not offer is simply not capped (the report says so).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup")
STALE_SECONDS = 600  # an empty sandbox cgroup this old belongs to a grader that was killed before it could tidy up


class Cgroups:
    """The cgroup folders of one sandbox, by controller ("pids", "memory"); several may be one folder (v2)."""

    def __init__(self, folders: dict[str, Path]):
        self.by_controller = folders

    @property
    def folders(self) -> list[Path]:
        return sorted(set(self.by_controller.values()))

    @classmethod
    def create(cls, token: str, *, max_tasks: int, memory_mb: int | None) -> "Cgroups | None":
        """Fresh cgroups capping `max_tasks` tasks and `memory_mb` MiB, or None where the system allows neither."""
        if not sys.platform.startswith("linux") or os.geteuid() != 0:
            return None
        wanted = {"pids": str(max_tasks)} | ({"memory": str(memory_mb * 2**20)} if memory_mb else {})
        folders: dict[str, Path] = {}
        for controller, value in wanted.items():
            for parent, version in _parents(controller):
                folder = parent / f"cnn-grade-{token}"
                made = not folder.exists()
                try:
                    if made:
                        _sweep(parent)
                        folder.mkdir()
                    _set_cap(folder, controller, version, value)
                    folders[controller] = folder
                    break
                except OSError:
                    if made:
                        _rmdir(folder)
        return cls(folders) if folders else None

    @property
    def caps_memory(self) -> bool:
        return "memory" in self.by_controller

    @property
    def caps_processes(self) -> bool:
        return "pids" in self.by_controller

    def add(self, pid: int) -> bool:
        """Move process `pid` (and its threads) into every folder; True if all took it."""
        ok = True
        for folder in self.folders:
            try:
                (folder / "cgroup.procs").write_text(str(pid))
            except OSError:
                ok = False
        return ok

    def oom_kills(self) -> int:
        """How many processes the memory cap has killed so far."""
        folder = self.by_controller.get("memory")
        if folder is None:
            return 0
        for name in ("memory.events", "memory.oom_control"):  # v2, v1: both have a line "oom_kill N"
            for line in _read(folder / name).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value)
        return 0

    def members(self) -> list[int]:
        """The live processes in the cgroups."""
        alive = set()
        for folder in self.folders:
            for pid in (int(p) for p in _read(folder / "cgroup.procs").split()):
                try:
                    if state_and_session(Path(f"/proc/{pid}"))[0] not in "ZX":  # not dead-and-unreaped
                        alive.add(pid)
                except (OSError, ValueError):
                    pass
        return sorted(alive)

    def count_outside(self, session: int) -> int:
        """How many live members have left `session` (setsid, a double fork): stragglers, to be ended."""
        count = 0
        for pid in self.members():
            try:
                state, sid = state_and_session(Path(f"/proc/{pid}"))
                count += state not in "ZX" and sid != session
            except (OSError, ValueError):
                pass
        return count

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroups, until they are empty."""
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
        """Delete the (emptied) cgroups."""
        self.kill_all()
        for folder in self.folders:
            _rmdir(folder, patience=100)  # a process that held a lot of memory can take a moment to finish exiting


def _parents(controller: str) -> list[tuple[Path, int]]:
    """Where a sandbox cgroup for `controller` may be made: (folder, cgroup version), best first."""
    found = []
    for root in (MOUNT, MOUNT / "unified"):  # v2 alone, or v2 beside v1 ("hybrid")
        if (root / "cgroup.controllers").exists() and controller in _read(root / "cgroup.subtree_control").split():
            found.append((root, 2))
    v1 = MOUNT / controller
    if (v1 / "cgroup.procs").exists():
        # Below the grader's own cgroup: a container's memory accounting still covers its sandboxes.
        own = _own_path(controller)
        if own and (v1 / own / "cgroup.procs").exists():
            found.append((v1 / own, 1))
        found.append((v1, 1))
    return found


def _own_path(controller: str) -> str:
    """This process's cgroup path in the v1 hierarchy of `controller` (from /proc/self/cgroup)."""
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path.strip("/")
    return ""


def _set_cap(folder: Path, controller: str, version: int, value: str) -> None:
    if controller == "pids":
        (folder / "pids.max").write_text(value)
        return
    (folder / ("memory.max" if version == 2 else "memory.limit_in_bytes")).write_text(value)
    try:  # no swap either, where the system accounts for it: memory used is memory held
        (folder / ("memory.swap.max" if version == 2 else "memory.memsw.limit_in_bytes")).write_text(
            "0" if version == 2 else value)
    except OSError:
        pass


def _sweep(parent: Path) -> None:
    """Remove empty, old cnn-grade cgroups left by graders that were killed (rmdir fails on a cgroup in use)."""
    now = time.time()
    for folder in parent.glob("cnn-grade-*"):
        try:
            if now - folder.stat().st_mtime > STALE_SECONDS and not _read(folder / "cgroup.procs").strip():
                folder.rmdir()
        except OSError:
            continue


def _rmdir(folder: Path, patience: int = 1) -> None:
    for _ in range(patience):
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # EBUSY: a member is still exiting
            time.sleep(0.05)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def state_and_session(entry: Path) -> tuple[str, int]:
    """(state, session id) of a process, from /proc/PID/stat; state "X" for one already on its way out.

    A process that was sent SIGKILL, or has begun to exit, can take a while to finish on a busy
    machine (freeing a few hundred MB of torch): it is ending, not left running, so it counts as gone.
    """
    # "pid (comm) state ppid pgrp session tty_nr tpgid flags ..."; comm may hold spaces and parentheses.
    fields = entry.joinpath("stat").read_text().rpartition(")")[2].split()
    state, session, flags = fields[0], int(fields[3]), int(fields[6])
    if flags & PF_EXITING or session == 0 or _kill_pending(entry):  # session 0: already detached by the exit
        return "X", session
    return state, session


PF_EXITING = 0x4  # include/linux/sched.h: set as the process enters do_exit
_SIGKILL_BIT = 1 << (9 - 1)


def _kill_pending(entry: Path) -> bool:
    for line in entry.joinpath("status").read_text().splitlines():
        if line.startswith(("ShdPnd:", "SigPnd:")) and int(line.split()[1], 16) & _SIGKILL_BIT:
            return True
    return False
