"""Processes a grading run left behind: descendants of this process, or named by a marker (Linux /proc)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

LINUX = sys.platform.startswith("linux")


def table() -> dict[int, tuple[int, str, bytes]]:
    """Every process visible now: pid -> (parent pid, state letter, command line)."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            found[int(entry.name)] = (int(fields[1]), fields[0], (entry / "cmdline").read_bytes())
        except (OSError, ValueError, IndexError):
            continue  # it ended while we looked
    return found


def descendants(root: int | None = None) -> dict[int, str]:
    """Processes below `root` (default: this one), zombies included: pid -> state letter."""
    root = os.getpid() if root is None else root
    procs = table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid in procs and pid not in found:
            found[pid] = procs[pid][1]
            todo.extend(children.get(pid, []))
    return found


def marked(marker: str) -> list[int]:
    """Processes whose command line holds `marker` (this process excluded)."""
    needle = marker.encode()
    return sorted(pid for pid, (_, state, cmdline) in table().items()
                  if needle in cmdline and pid != os.getpid() and state != "Z")


def with_environment(start: str) -> list[int]:
    """Live processes with an environment entry starting with `start` ("NAME=value", or "NAME=" for any value)."""
    needle = start.encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        try:
            entries = (entry / "environ").read_bytes().split(b"\0")
            if pid != os.getpid() and any(e.startswith(needle) for e in entries):
                state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
                if state != "Z":
                    found.append(pid)
        except (OSError, IndexError):
            continue
    return sorted(found)


def settle(look, seconds: float = 2.0):
    """Call `look()` until it returns something empty or `seconds` pass (ending processes takes a moment)."""
    deadline = time.monotonic() + seconds
    while True:
        found = look()
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def end(pids) -> None:
    """SIGKILL what a failed run left behind, so one finding does not leak into the next test."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
