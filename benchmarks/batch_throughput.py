"""Submissions per minute of `cnn-grade batch` on exercises 1 and 4, next to sequential `cnn-grade exerciseN` runs.

Run from the repository root:
    python benchmarks/batch_throughput.py [--count 40] [--scale 160] [--workers N] [--repeat 3] [--sample 8]

A class of --count students is made from copies of the good and buggy samples in
tests/submissions/exerciseN/ (cycled). The batch runs --repeat times into a fresh gradebook each
time; the table shows medians. The sequential baseline runs `cnn-grade exerciseN --file F` on
--sample of those files (spread over the class, run between the batches) and extrapolates its
median per file to --count (it says so). Peak memory is the largest sum
of the resident sets (RSS, counting shared library pages once per process) and of the proportional
sets (PSS, sharing them out) of the batch process and all its descendants (workers and sandboxes),
polled from /proc every 0.2 s, next to the largest single process (benchmarks/proctree.py).

Shards (--shards 1,2): a class of --shard-count students handing in all five exercises is graded
as N shards side by side and merged, for each N; the per-submission costs measured there give a
projection for a 1,000-student course on a 16-job CI matrix (benchmarks/sharding.py). Only that
part runs when --shards is given.

Scaling: when exercise1 is among --exercises, a class of --scale exercise-1 students (default 160;
0 skips it) is batched too, --repeat times, each run right after a --count batch; a second table
sets the two sizes side by side: wall time, the time ratio (against the ratio of class sizes),
peak memory of both, and the speed-up over sequential runs for --count (sequential runs of the
larger class are not made).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "tests" / "submissions"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctree import run_measured as _run_tree  # noqa: E402


def make_class(root: Path, exercise: str, count: int, name: str | None = None) -> Path:
    """`count` student folders, each holding one sample of `exercise`, cycling through all samples."""
    samples = sorted((SAMPLES / exercise).glob("*.py"))
    folder = root / (name or f"class-{exercise}")
    for i in range(count):
        student = folder / f"student{i:03d}"
        student.mkdir(parents=True)
        shutil.copy(samples[i % len(samples)], student / f"{exercise}.py")
    return folder


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, int, int, int]:
    """Wall time, and the peaks of the process tree's summed RSS, summed PSS and largest single RSS."""
    run = _run_tree(argv, env, REPO, poll=0.2)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {run.returncode}: {run.stderr}")
    return run.elapsed, run.rss_sum, run.pss_sum, run.rss_largest


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
    parser.add_argument("--scale", type=int, default=160,
                        help="also batch this many exercise-1 students, to compare with --count (default 160; 0: no)")
    parser.add_argument("--shards", default="", help="e.g. 1,2: grade a five-exercise class as N shards (only that)")
    parser.add_argument("--shard-count", type=int, default=12, help="students in the sharded class (default 12)")
    parser.add_argument("--students", type=int, default=1000, help="students in the projected course (default 1000)")
    parser.add_argument("--jobs", type=int, default=16, help="jobs of the projected CI matrix (default 16)")
    parser.add_argument("--runner-cores", type=int, default=4, help="cores of a CI runner (default 4)")
    parser.add_argument("--setup-minutes", type=float, default=3.0, help="setup of one CI job (default 3)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "CNN_GRADE_SEED"}
    if args.shards:
        return main_shards(args, env)
    workers = args.workers or os.cpu_count() or 1
    rows, scaled = [], []
    with tempfile.TemporaryDirectory(prefix="cnn-grade-bench-") as tmp:
        root = Path(tmp)
        for exercise in args.exercises.split(","):
            folder = make_class(root, exercise, args.count)
            # Spread over the class (good and buggy files alike), and run between the batches, so a busy
            # moment of the machine weighs on both sides.
            students = sorted(folder.iterdir())[::max(1, args.count // args.sample)][:args.sample]
            share = -(-len(students) // args.repeat)
            large = None
            if exercise == "exercise1" and args.scale:
                large = make_class(root, exercise, args.scale, "large-class")
            runs, singles = [], []
            for i in range(args.repeat):
                out = root / f"out-{exercise}-{i}"
                argv = [sys.executable, "-m", "grader", "batch", str(folder), "--out", str(out),
                        "--workers", str(workers)]
                runs.append(run_measured(argv, env))
                singles += sequential(exercise, students[i * share:(i + 1) * share], env)
                print(f"  {exercise}: batch run {i + 1} {runs[-1][0]:.1f} s; sequential so far "
                      f"{', '.join(f'{t:.1f}' for t in singles)} s", file=sys.stderr, flush=True)
                if large is not None:
                    argv = [sys.executable, "-m", "grader", "batch", str(large), "--out", str(root / f"out-large-{i}"),
                            "--workers", str(workers)]
                    scaled.append(run_measured(argv, env))
                    print(f"  {exercise}: batch run {i + 1} of {args.scale} {scaled[-1][0]:.1f} s",
                          file=sys.stderr, flush=True)
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
    small = next((r for r in rows if r[0] == "exercise1"), None)
    if scaled and small is not None:
        print_scaling(small[1], small[2], scaled, args.count, args.scale, args.repeat)


def main_shards(args, env: dict[str, str]) -> None:
    """The --shards mode: throughput of N shards side by side, then the projection."""
    from sharding import costs, make_course, report, run_shards

    counts = [int(n) for n in args.shards.split(",")]
    walls: dict[int, list[float]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory(prefix="cnn-grade-shards-") as tmp:
        course = make_course(Path(tmp), args.shard_count)
        for i in range(args.repeat):
            for n in counts:  # alternated, so a busy moment of the machine weighs on every N
                out = Path(tmp) / f"merged-{n}-{i}"
                walls[n].append(run_shards(course, out, n, env))
                print(f"  {n} shard(s), run {i + 1}: {walls[n][-1]:.1f} s", file=sys.stderr, flush=True)
        per_cell = costs(Path(tmp) / f"merged-{counts[0]}-0")
    report(args.shard_count, walls, per_cell, args.students, args.jobs, args.runner_cores, args.setup_minutes)


def print_scaling(small: list, per_file: float, large: list, count: int, scale: int, repeat: int) -> None:
    """The exercise-1 batch at --count and at --scale students, next to sequential runs of --count."""
    print(f"\nexercise1, {count} vs {scale} submissions: batch median of {repeat} runs each; "
          f"sequential for {count} only (extrapolated as above)\n")
    columns = ("students", "batch wall", "batch /min", "sequential wall", "speed-up", "peak RSS, all",
               "peak PSS, all", "largest RSS")
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    walls = {}
    for n, runs in ((count, small), (scale, large)):
        walls[n] = statistics.median(r[0] for r in runs)
        rss, pss, largest = (max(r[i] for r in runs) / 2**20 for i in (1, 2, 3))
        seq = f"{per_file * n:.1f} s" if n == count else "-"
        speed = f"{per_file * n / walls[n]:.1f}x" if n == count else "-"
        cells = (str(n), f"{walls[n]:.1f} s", f"{60 * n / walls[n]:.1f}", seq, speed, f"{rss:.0f} MB",
                 f"{pss:.0f} MB", f"{largest:.0f} MB")
        print("| " + " | ".join(cells) + " |")
    print(f"\ntime ratio {scale} / {count}: {walls[scale] / walls[count]:.2f} (the class is {scale / count:g}x larger)")


if __name__ == "__main__":
    main()
