"""Sharded batches for benchmarks/batch_throughput.py --shards: N shard processes on one machine, and a projection.

A class of --count students, each handing in all five exercises (keys and samples of
tests/submissions, cycled), is graded as N shards running side by side (`batch --shard i/N`, the
machine's cores split between them) and merged, for each N asked. The grades.json durations give
the cost of one submission per exercise (median seconds of one worker), from which the projection
for a course on a CI matrix is computed, its arithmetic printed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "tests" / "submissions"
EXERCISES = ("exercise1", "exercise2", "exercise3", "exercise4", "exercise5")


def make_course(root: Path, count: int) -> Path:
    """`count` students with one file per exercise: the key for every third student, else a sample."""
    folder = root / "course"
    for i in range(count):
        student = folder / f"student{i:04d}"
        student.mkdir(parents=True)
        for exercise in EXERCISES:
            samples = sorted((SAMPLES / exercise).glob("*.py"))
            source = REPO / "solutions" / f"{exercise}.py" if i % 3 == 0 else samples[i % len(samples)]
            shutil.copy(source, student / f"{exercise}.py")
    return folder


def run_shards(course: Path, out: Path, count: int, env: dict[str, str]) -> float:
    """Wall seconds for `count` shard processes side by side, then their merge; the gradebook lands in `out`."""
    cores = os.cpu_count() or 1
    workers = max(1, cores // count)
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "grader", "batch", str(course), "--shard", f"{i}/{count}",
                               "--out", str(out.parent / f"{out.name}-{i}-of-{count}"), "--workers", str(workers)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
             for i in range(1, count + 1)]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"a shard exited {proc.returncode}: {err}")
    merged = subprocess.run([sys.executable, "-m", "grader", "merge",
                             *(str(out.parent / f"{out.name}-{i}-of-{count}") for i in range(1, count + 1)),
                             "--out", str(out)], capture_output=True, text=True, env=env)
    if merged.returncode != 0:
        raise SystemExit(f"merge exited {merged.returncode}: {merged.stdout}{merged.stderr}")
    return time.perf_counter() - started


def costs(gradebook: Path) -> dict[str, float]:
    """Median seconds one worker spent on one submission, per exercise."""
    data = json.loads((gradebook / "grades.json").read_text())
    spent: dict[str, list[float]] = {}
    for row in data["students"].values():
        for exercise, cell in row["exercises"].items():
            if cell["status"] == "ok":
                spent.setdefault(exercise, []).append(cell["duration"])
    return {exercise: statistics.median(values) for exercise, values in sorted(spent.items())}


def report(count: int, walls: dict[int, list[float]], per_cell: dict[str, float], students: int, jobs: int,
           runner_cores: int, setup_minutes: float) -> None:
    """Print the sharded throughput and the projection for a course on a CI matrix, with its arithmetic."""
    cores = os.cpu_count() or 1
    cells = count * len(EXERCISES)
    print(f"\nsharded batches: {count} students x {len(EXERCISES)} exercises = {cells} submissions, {cores} cores "
          f"split between the shards; median of {len(next(iter(walls.values())))} runs, merge included\n")
    print("| shards | workers per shard | wall | submissions /min |")
    print("|---|---|---|---|")
    for n, runs in walls.items():
        wall = statistics.median(runs)
        print(f"| {n} | {max(1, cores // n)} | {wall:.1f} s | {60 * cells / wall:.1f} |")

    print("\nseconds of one worker per submission (median of the graded cells): "
          + ", ".join(f"{ex} {s:.2f}" for ex, s in per_cell.items()))
    one_student = sum(per_cell.values())
    # The largest shard sets the wall time: shards are a hash of the folder names, not equal slices.
    names = [f"student{i:04d}" for i in range(students)]
    from grader.classroom.shards import shard_of
    largest = max(sum(shard_of(name, jobs) == i for name in names) for i in range(1, jobs + 1))
    work = largest * one_student / runner_cores / 60
    wall = setup_minutes + work
    billed = sum(math.ceil(setup_minutes + sum(shard_of(n, jobs) == i for n in names) * one_student
                           / runner_cores / 60) for i in range(1, jobs + 1))
    print(f"\nprojection: {students} students x {len(per_cell)} exercises on a {jobs}-job matrix, "
          f"{runner_cores}-core runners, {setup_minutes:g} min of setup per job (checkout, Python, CPU torch, the "
          f"kit: an estimate, not measured here)")
    print(f"  one student's five submissions: {' + '.join(f'{s:.2f}' for s in per_cell.values())} "
          f"= {one_student:.1f} s of one worker")
    print(f"  largest shard: {largest} students (a hash split of {students} into {jobs}; mean {students / jobs:.1f})")
    print(f"  its grading: {largest} x {one_student:.1f} s / {runner_cores} workers = {work:.1f} min")
    print(f"  wall time: {setup_minutes:g} + {work:.1f} = {wall:.1f} min (plus the merge job, about a minute)")
    print(f"  runner-minutes: sum over the {jobs} jobs of ceil(setup + shard students x {one_student:.1f} s / "
          f"{runner_cores} / 60) = {billed} (GitHub bills each job's minutes rounded up)")
    print(f"  one machine like this one, unsharded: {students} x {one_student:.1f} s / {cores} workers = "
          f"{students * one_student / cores / 60:.0f} min")
