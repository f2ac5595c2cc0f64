"""Time from a save to the new report on screen under `cnn-grade exerciseN --watch`, for exercises 1, 2 and 4.

Run from the repository root:  python benchmarks/watch_latency.py [--saves 7]
The watcher runs in this process (watch_exercise, rendering to a terminal-like console) on a copy
of the key; the key is saved again and again, alternating two correct variants so the content
changes, and each save waits for its report. Target: <= 0.5 s.
"""

from __future__ import annotations

import argparse
import io
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402

from grader.coursework.watch import POLL, QUIET, watch_exercise  # noqa: E402

TARGET = 0.5
SETTLE = 0.3  # pause between saves, so no two are taken for one burst


def measure(exercise: str, saves: int) -> tuple[list[float], list[float]]:
    """(save-to-report seconds, grading-run seconds) for `saves` saves of the key."""
    key = (REPO / "solutions" / f"{exercise}.py").read_text()
    variants = (key, key + "\n# the same solution, saved again\n")
    reports: queue.Queue = queue.Queue()
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "exercises" / f"{exercise}.py"
        path.parent.mkdir()
        path.write_text(variants[0])
        console = Console(file=io.StringIO(), width=100, force_terminal=True, highlight=False)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                watch_exercise(exercise, submission=path, console=console, stop=stop,
                               on_report=lambda r: reports.put((time.perf_counter(), r)))
            except BaseException as e:
                failure.append(e)
                reports.put(None)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            if reports.get(timeout=300) is None:  # the first report: the process is warm from here on
                raise SystemExit(f"{exercise}: {failure[0]!r}")
            latencies, durations = [], []
            for i in range(1, saves + 1):
                time.sleep(SETTLE)
                saved = time.perf_counter()
                path.write_text(variants[i % 2])
                got = reports.get(timeout=300)
                if got is None:
                    raise SystemExit(f"{exercise}: {failure[0]!r}")
                shown, report = got
                if report.score != report.max_score:
                    raise SystemExit(f"{exercise}: the key scored {report.score:g} / {report.max_score:g}")
                latencies.append(shown - saved)
                durations.append(report.duration)
        finally:
            stop.set()
            thread.join(timeout=300)
    return latencies, durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=7)
    parser.add_argument("--exercises", default="1,2,4", help="comma-separated exercise numbers")
    args = parser.parse_args()
    os.environ.pop("CNN_GRADE_SEED", None)
    print(f"{os.cpu_count()} cores, {args.saves} saves per exercise; polling every {POLL * 1000:.0f} ms, "
          f"graded after {QUIET * 1000:.0f} ms without change; target <= {TARGET} s")
    for n in args.exercises.split(","):
        exercise = f"exercise{n.strip()}"
        latencies, durations = measure(exercise, args.saves)
        median = statistics.median(latencies)
        print(f"  {exercise}  save -> report: median {median:5.2f} s  max {max(latencies):5.2f} s"
              f"   (grading run alone: median {statistics.median(durations):5.2f} s)"
              f"   {'within' if median <= TARGET else 'over'} target")


if __name__ == "__main__":
    main()
