"""Grade every hostile submission of tests/adversarial once and print what happened, as a Markdown table.

Run from the repository root:  python benchmarks/adversarial_figures.py [--only NAME ...]

Per submission: the exercise, how it was run (in process, or `python -m grader` when it attacks its
parent), the checks it ran, the statuses they ended with, wrong passes (checks passed that its
docstring does not allow, forged reports included), whether the grader itself broke (an exception,
a traceback, a hang, "internal grader error"), and the processes of the run still alive after it
("+ cgroup": the sandbox's pids cgroup outlived it too, for the runs that kill their grader).
The totals end with a last sweep for any process a run left behind. The figures that must be 0 are
wrong passes, grader crashes and orphan processes; cases the suite knows to break a rule today are
marked with *.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.adversarial import procs  # noqa: E402
from tests.adversarial.cases import all_cases  # noqa: E402
from tests.adversarial.runner import RUN_VARIABLE, run  # noqa: E402
from tests.adversarial.test_adversarial import KNOWN  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="grade only these submissions (by name)")
    args = parser.parse_args()
    os.environ.pop("CNN_GRADE_SEED", None)  # the exercises' fixed seeds, as in the test suite
    cases = [c for c in all_cases() if args.only is None or c.name in args.only]
    print("| submission | exercise | run | checks | statuses | wrong passes | grader crash | orphans | seconds |")
    print("|---|---|---|---:|---|---|---|---:|---:|")
    totals = {"checks": 0, "wrong": 0, "crashes": 0, "orphans": 0, "cgroups": 0}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cnn-adv-figures-") as tmp:
        for case in cases:
            outcome = run(case, Path(tmp) / case.name)
            ran = [n for n in outcome.statuses if not n.startswith("(")]  # not a forged report's claims
            crash = outcome.grader_crash.strip().splitlines()[0][:60] if outcome.grader_crash else ""
            found = [outcome.statuses[n] for n in ran]
            statuses = " ".join(f"{s}×{found.count(s)}" for s in sorted(set(found))) or (
                "(forged report)" if outcome.statuses else "(no report)")
            name = case.name + (" *" if case.name in KNOWN else "")
            print(f"| {name} | {case.exercise} | {'cli' if case.via == 'cli' else 'in process'} | "
                  f"{len(ran)} | {statuses} | {', '.join(outcome.wrong_passes) or '0'} | "
                  f"{crash or '0'} | {len(outcome.leftovers)}{' + cgroup' if outcome.cgroup_left else ''} | "
                  f"{outcome.seconds:.1f} |", flush=True)
            totals["checks"] += len(ran)
            totals["wrong"] += len(outcome.wrong_passes)
            totals["crashes"] += bool(outcome.grader_crash)
            totals["orphans"] += len(outcome.leftovers)
            totals["cgroups"] += bool(outcome.cgroup_left)
    swept = [pid for pid, (_, state, cmd) in procs.table().items() if b"cnn-adv-" in cmd and state != "Z"]
    swept += procs.with_environment(f"{RUN_VARIABLE}=")
    procs.end(swept)
    print()
    print(f"submissions: {len(cases)} ({sum(c.via == 'cli' for c in cases)} through the command line), "
          f"checks run: {totals['checks']}, wall time {time.perf_counter() - started:.0f} s")
    print(f"wrong passes: {totals['wrong']}; grader crashes: {totals['crashes']}; processes that outlived their run: "
          f"{totals['orphans']} (ended by this script); left after the whole run: {len(swept)}; "
          f"sandbox pids cgroups left behind: {totals['cgroups']} (removed by this script)")
    print(f"* known today ({len(KNOWN)}): {', '.join(sorted(KNOWN))}")


if __name__ == "__main__":
    main()
