"""Submissions per minute of `cnn-grade batch` on exercises 1 and 4, next to sequential `cnn-grade exerciseN` runs.

Run from the repository root:
    python benchmarks/batch_throughput.py [--count 40] [--workers N] [--repeat 3] [--sample 8]

A class of --count students is made from copies of the good and buggy samples in
tests/submissions/exerciseN/ (cycled). The batch runs --repeat times into a fresh gradebook each
time; the table shows medians. The sequential baseline runs `cnn-grade exerciseN --file F` on
--sample of those files (spread over the class, run between the batches) and extrapolates its
median per file to --count (it says so). Peak memory is the largest sum
of the resident sets (RSS, counting shared library pages once per process) and of the proportional
sets (PSS, sharing them out) of the batch process and all its descendants (workers and sandboxes),
polled from /proc every 0.2 s, next to the largest single process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "tests" / "submissions"
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def make_class(root: Path, exercise: str, count: int) -> Path:
    """`count` student folders, each holding one sample of `exercise`, cycling through all samples."""
    samples = sorted((SAMPLES / exercise).glob("*.py"))
    folder = root / f"class-{exercise}"
    for i in range(count):
        student = folder / f"student{i:03d}"
        student.mkdir(parents=True)
        shutil.copy(samples[i % len(samples)], student / f"{exercise}.py")
    return folder


def _memory(pid: str) -> tuple[int, int]:
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


def _tree_memory(root: int) -> tuple[int, int, int]:
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
            sizes.append(_memory(str(pid)))
        except (OSError, IndexError, ValueError):
            continue  # it ended meanwhile
    return sum(r for r, _ in sizes), sum(p for _, p in sizes), max((r for r, _ in sizes), default=0)


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, int, int, int]:
    """Wall time, and the peaks of the process tree's summed RSS, summed PSS and largest single RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO)
    peaks = [0, 0, 0]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            peaks[:] = [max(a, b) for a, b in zip(peaks, _tree_memory(proc.pid))]
            stop.wait(0.2)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    _, stderr = proc.communicate()
    elapsed = time.perf_counter() - start
    stop.set()
    watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {stderr.decode()[-800:]}")
    return (elapsed, *peaks)


def grader_command() -> str:
    beside = Path(sys.executable).with_name("cnn-grade")  # the script of this environment
    return str(beside) if beside.exists() else shutil.which("cnn-grade") or "cnn-grade"


def sequential(exercise: str, students: list[Path], env: dict[str, str]) -> list[float]:
    """Seconds per `cnn-grade EXERCISE --file F` run, one after the other, for these students."""
    times = []
    for student in students:
        start = time.perf_counter()
        subprocess.run([grader_command(), exercise, "--file", str(student / f"{exercise}.py"), "--format", "json"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=REPO)
        times.append(time.perf_counter() - start)  # exit 1 (some check failed) is a normal outcome here
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="students in each class (default 40)")
    parser.add_argument("--workers", type=int, default=None, help="batch workers (default: the core count)")
    parser.add_argument("--repeat", type=int, default=3, help="batch runs per exercise (default 3)")
    parser.add_argument("--sample", type=int, default=8, help="sequential runs per exercise (default 8)")
    parser.add_argument("--exercises", default="exercise1,exercise4", help="comma-separated (default: 1 and 4)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "CNN_GRADE_SEED"}
    workers = args.workers or os.cpu_count() or 1
    rows = []
    with tempfile.TemporaryDirectory(prefix="cnn-grade-bench-") as tmp:
        root = Path(tmp)
        for exercise in args.exercises.split(","):
            folder = make_class(root, exercise, args.count)
            # Spread over the class (good and buggy files alike), and run between the batches, so a busy
            # moment of the machine weighs on both sides.
            students = sorted(folder.iterdir())[::max(1, args.count // args.sample)][:args.sample]
            share = -(-len(students) // args.repeat)
            runs, singles = [], []
            for i in range(args.repeat):
                out = root / f"out-{exercise}-{i}"
                argv = [sys.executable, "-m", "grader", "batch", str(folder), "--out", str(out),
                        "--workers", str(workers)]
                runs.append(run_measured(argv, env))
                singles += sequential(exercise, students[i * share:(i + 1) * share], env)
                print(f"  {exercise}: batch run {i + 1} {runs[-1][0]:.1f} s; sequential so far "
                      f"{', '.join(f'{t:.1f}' for t in singles)} s", file=sys.stderr, flush=True)
            per_file = statistics.median(singles)
            rows.append((exercise, runs, per_file))
    print(f"\n{args.count} submissions per exercise, {workers} workers, {os.cpu_count()} cores; "
          f"batch: median of {args.repeat} runs; sequential: median of {args.sample} `cnn-grade EXERCISE` runs "
          f"x {args.count} (extrapolated)\n")
    columns = ("exercise", "batch wall", "batch /min", "sequential wall", "sequential /min", "speed-up",
               "peak RSS, all", "peak PSS, all", "largest RSS")
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for exercise, runs, per_file in rows:
        wall = statistics.median(r[0] for r in runs)
        rss, pss, largest = (max(r[i] for r in runs) / 2**20 for i in (1, 2, 3))
        seq_wall = per_file * args.count
        cells = (exercise, f"{wall:.1f} s", f"{60 * args.count / wall:.1f}", f"{seq_wall:.1f} s",
                 f"{60 / per_file:.1f}", f"{seq_wall / wall:.1f}x", f"{rss:.0f} MB", f"{pss:.0f} MB",
                 f"{largest:.0f} MB")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
