"""Wall time and peak memory of `cnn-grade exerciseN` on the keys, next to `python -c "import torch"`.

Run from the repository root:  python benchmarks/latency.py [--repeat 7] [--exercises 1,4]

For each chosen exercise, `cnn-grade exerciseN --file solutions/exerciseN.py --format json`; also
`cnn-grade --help` and `cnn-grade list` (in the repository, whose exercises/ holds the stubs), and
`python -c "import torch"` as the yardstick: the ratio is each median over its median.
Runs are interleaved (one of each per round, after one warm-up round) so a busy moment hurts every
command alike. Times are medians (min-max) over --repeat rounds.

Memory, the largest over the rounds (see benchmarks/proctree.py):
- "tree RSS": the summed resident set of the command and all its descendants (the grading process,
  the sandbox's zygote and child), sampled from /proc every 0.1 s; shared library pages count once
  per process, so this overstates what the tree costs the machine; "tree PSS" shares them out.
- "largest": the kernel's exact high-water RSS of the largest single process in the tree
  (`os.wait4` ru_maxrss of the command, which folds in its reaped descendants).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctree import MB, Measured, run_measured  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TORCH = "import torch"


def grader_command() -> str:
    """The `cnn-grade` script of this environment (beside the interpreter), else the one on PATH."""
    beside = Path(sys.executable).with_name("cnn-grade")
    return str(beside) if beside.exists() else shutil.which("cnn-grade") or "cnn-grade"


def commands(exercises: list[int]) -> dict[str, list[str]]:
    """Name -> argv of every command measured, the yardstick first."""
    grader = grader_command()
    runs = {TORCH: [sys.executable, "-c", "import torch"]}
    for n in exercises:
        key = REPO / "solutions" / f"exercise{n}.py"
        runs[f"cnn-grade exercise{n}"] = [grader, f"exercise{n}", "--file", str(key), "--format", "json"]
    runs["cnn-grade --help"] = [grader, "--help"]
    runs["cnn-grade list"] = [grader, "list"]
    return runs


def measured(argv: list[str], env: dict[str, str]) -> Measured:
    """One run; a failing command stops the benchmark with its stderr."""
    run = run_measured(argv, env, REPO, poll=0.1)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {run.returncode}: {run.stderr}")
    return run


def parse_exercises(text: str) -> list[int]:
    """"1,4" or "exercise1,exercise4" -> [1, 4]."""
    numbers = [int(part.strip().removeprefix("exercise")) for part in text.split(",") if part.strip()]
    if not numbers or any(n not in (1, 2, 3, 4, 5) for n in numbers):
        raise argparse.ArgumentTypeError(f"exercises are 1 to 5, e.g. 1,4; got {text!r}")
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--exercises", type=parse_exercises, default=[1, 2, 3, 4, 5],
                        help="comma-separated numbers (default: 1,2,3,4,5)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "CNN_GRADE_SEED"}
    runs = commands(args.exercises)
    for argv in runs.values():  # warm the file cache once
        measured(argv, env)
    results: dict[str, list[Measured]] = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, argv in runs.items():
            results[name].append(measured(argv, env))
    base = statistics.median(r.elapsed for r in results[TORCH])
    print(f"{os.cpu_count()} cores, {args.repeat} runs each; time: median (min-max); memory: the largest of the runs")
    print(f"  {'command':<22} {'time':>8} {'(min-max)':<13} {'vs torch':>9} {'tree RSS':>9} {'tree PSS':>9} "
          f"{'largest':>8}")
    for name, values in results.items():
        times = [r.elapsed for r in values]
        median = statistics.median(times)
        ratio = "" if name == TORCH else f"{median / base:.2f}x"
        rss, pss, largest = (max(getattr(r, field) for r in values) / MB for field in ("rss_sum", "pss_sum", "maxrss"))
        print(f"  {name:<22} {median:6.2f} s {f'({min(times):.2f}-{max(times):.2f})':<13} {ratio:>9} "
              f"{rss:6.0f} MB {pss:6.0f} MB {largest:5.0f} MB")


if __name__ == "__main__":
    main()
