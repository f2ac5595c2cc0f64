"""Size of the HTML report per exercise (key and a buggy submission), and what `--format html` adds in time.

Run from the repository root:  python benchmarks/html_report.py [--repeat 5] [--exercises 1,3]

For each exercise: the size of `cnn-grade exerciseN --format html --out F` for the key and for one
buggy submission of tests/submissions (the one whose pictures matter most); then, on the buggy one,
the wall time of `--format json` and of `--format html --out F`, alternating round by round (which
goes first alternates too), medians (min-max) over --repeat rounds, and their difference: what the
pictures add to a run. The CLI times include grading, which varies from run to run; "render" isolates
to_html in a fresh process: the first call with its imports (Jinja2, and matplotlib where a chart
needs it), the first call after preload() had the whole grading to load them (as the CLI does), and
the median of the next --repeat calls.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUGGY = {1: "bad_flipped_kernel", 2: "bad_ceil", 3: "bad_bn_after_relu", 4: "bad_no_final_relu", 5: "bad_bn_drift"}


def grade(n: int, file: Path, fmt: str, out: Path | None = None) -> float:
    """Seconds one `python -m grader exerciseN` run took; a grader failure (exit 2 or more) stops the benchmark."""
    argv = [sys.executable, "-m", "grader", f"exercise{n}", "--file", str(file), "--format", fmt]
    argv += ["--out", str(out)] if out else []
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr or done.stdout}")
    return took


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.2f} s ({min(values):.2f}-{max(values):.2f})"


RENDER = """
import json, sys, time
from grader.grading.engine import grade_exercise
from grader.report import html
n, file, repeat, preload = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "preload"
if preload:
    html.preload()
report = grade_exercise(f"exercise{n}", submission=file)
times = []
for _ in range(repeat + 1):
    start = time.perf_counter()
    html.to_html(report)
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def render_times(n: int, file: Path, repeat: int, preload: bool) -> list[float]:
    """Seconds of each to_html call (the first one first) in a fresh process that graded `file` itself."""
    done = subprocess.run([sys.executable, "-c", RENDER, str(n), str(file), str(repeat),
                           "preload" if preload else "cold"], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"rendering exercise{n} failed: {done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--exercises", default="1,2,3,4,5")
    args = parser.parse_args()
    chosen = [int(n) for n in args.exercises.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        print(f"{'exercise':<10} {'file':<28} {'HTML size':>10}")
        for n in chosen:
            for file in (REPO / "solutions" / f"exercise{n}.py",
                         REPO / "tests" / "submissions" / f"exercise{n}" / f"{BUGGY[n]}.py"):
                grade(n, file, "html", page)
                print(f"exercise{n:<2} {file.name:<28} {page.stat().st_size / 1024:8.1f} KB", flush=True)
        print(f"\nbuggy submission, {args.repeat} rounds: --format json | --format html --out F | added | "
              f"to_html: first call (imports) | first after preload | later calls")
        for n in chosen:
            file = REPO / "tests" / "submissions" / f"exercise{n}" / f"{BUGGY[n]}.py"
            json_times, html_times = [], []
            for round_ in range(args.repeat):  # alternating: a busy moment slows both alike
                for fmt in (("json", "html") if round_ % 2 == 0 else ("html", "json")):
                    if fmt == "json":
                        json_times.append(grade(n, file, "json"))
                    else:
                        html_times.append(grade(n, file, "html", page))
            added = statistics.median(html_times) - statistics.median(json_times)
            cold = render_times(n, file, args.repeat, preload=False)
            warm = render_times(n, file, 0, preload=True)
            print(f"exercise{n}  {spread(json_times)} | {spread(html_times)} | {added:+6.2f} s | "
                  f"{cold[0]:5.2f} s | {warm[0]:5.2f} s | {statistics.median(cold[1:]):5.2f} s", flush=True)


if __name__ == "__main__":
    main()
