"""Run a command; measure its wall time and the memory of its whole process tree (Linux /proc).

Two memory figures, because neither alone is the whole truth:
- sampled: every `poll` seconds the resident sets (RSS) and proportional sets (PSS, shared pages shared out)
  of the process and all its descendants (sandboxes, zygotes, workers) are read from /proc and summed;
  the largest sums seen are kept. A peak shorter than the poll interval can be missed.
- exact: the kernel's high-water mark of the largest single process in the tree that was waited for
  (`os.wait4`'s ru_maxrss, which folds in the reaped descendants' own maxima). Not a sum.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB = 2**20


@dataclass(frozen=True)
class Measured:
    """One run: wall seconds, exit code, stderr's end, and memory peaks in bytes."""

    elapsed: float
    returncode: int
    stderr: str
    rss_sum: int  # largest summed RSS of the tree seen
    pss_sum: int  # largest summed PSS of the tree seen
    rss_largest: int  # largest single-process RSS seen while sampling
    maxrss: int  # exact high-water mark of the largest process (wait4), 0 where unknown


def _memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of one process; PSS shares each shared page among the processes that map it."""
    with open(f"/proc/{pid}/statm") as f:
        rss = int(f.read().split()[1]) * PAGE
    pss = rss
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    return rss, pss


def tree_memory(root: int) -> tuple[int, int, int]:
    """(summed RSS, summed PSS, largest RSS) of `root` and its descendants, from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rpartition(")")[2].split()[1])  # the field after the state
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, {root}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier and p not in tree}
        tree |= frontier
    sizes = []
    for pid in tree:
        try:
            sizes.append(_memory(pid))
        except (OSError, IndexError, ValueError):
            continue  # it ended meanwhile
    return sum(r for r, _ in sizes), sum(p for _, p in sizes), max((r for r, _ in sizes), default=0)


def run_measured(argv: list[str], env: dict[str, str], cwd: Path, poll: float = 0.2) -> Measured:
    """Run argv to its end (stdout discarded) while sampling its tree's memory every `poll` seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    peaks = [0, 0, 0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peaks[:] = [max(a, b) for a, b in zip(peaks, tree_memory(proc.pid))]
            stop.wait(poll)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    stderr = proc.stderr.read()  # to EOF: the command and whatever inherited its stderr are done writing
    maxrss = 0
    if hasattr(os, "wait4"):
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        maxrss = usage.ru_maxrss * 1024  # KiB on Linux
    else:
        proc.wait()
    elapsed = time.perf_counter() - start
    stop.set()
    watcher.join()
    proc.stderr.close()
    return Measured(elapsed, proc.returncode, stderr.decode(errors="replace")[-800:], *peaks, maxrss)
