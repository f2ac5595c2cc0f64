"""Median wall time of `cnn-grade exerciseN` (1-5) on the keys, next to `python -c "import torch"`.

Run from the repository root:  python benchmarks/latency.py [--repeat 7]
Runs are interleaved (one of each per round) so a busy moment hurts every command alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def commands() -> dict[str, list[str]]:
    beside = Path(sys.executable).with_name("cnn-grade")  # the script of this environment
    grader = str(beside) if beside.exists() else shutil.which("cnn-grade") or "cnn-grade"
    runs = {"import torch": [sys.executable, "-c", "import torch"]}
    for n in (1, 2, 3, 4, 5):
        key = REPO / "solutions" / f"exercise{n}.py"
        runs[f"cnn-grade exercise{n}"] = [grader, f"exercise{n}", "--file", str(key), "--format", "json"]
    return runs


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "CNN_GRADE_SEED"}
    runs = commands()
    for argv in runs.values():  # warm the file cache once
        timed(argv, env)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, argv in runs.items():
            times[name].append(timed(argv, env))
    base = statistics.median(times["import torch"])
    print(f"{os.cpu_count()} cores, {args.repeat} runs each, medians (min-max)")
    for name, values in times.items():
        median = statistics.median(values)
        ratio = "" if name == "import torch" else f"   ratio {median / base:.2f}x import torch"
        print(f"  {name:<22} {median:6.2f} s  ({min(values):.2f}-{max(values):.2f}){ratio}")


if __name__ == "__main__":
    main()
