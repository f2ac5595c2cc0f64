"""Grade every key and a set of buggy and styled submissions on a GPU, and say whether each verdict is right.

Run from the repository root:

    python benchmarks/gpu_check.py                  # --device cuda; without CUDA it says so and exits 0
    python benchmarks/gpu_check.py --device cpu     # the same run on the CPU, to try the script anywhere
    python benchmarks/gpu_check.py --exercise 4 --only bad_no_skip

A verdict is right when a key (solutions/exerciseN*.py) or a good_*.py file scores full marks, and when a
bad_*.py file (tests/submissions/exerciseN/) fails every check its docstring's `expect:` line names. For each
run it prints the verdict and the largest error of each value check against the float64 reference, as a share
of the check's tolerance (grader/compare.py TOLERANCES); then each key's time on the CPU and on the device.
Exit code: 1 on any wrong verdict, else 0. Keys are timed one at a time; the other files are graded in
parallel (--jobs), each in a fresh process (spawned, never forked, so no CUDA state is shared).
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures as futures
import multiprocessing
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# The files graded beside the keys: the value checks, the training checks and every device rule.
CHOSEN = {
    "exercise1": ["bad_flipped_kernel", "bad_no_padding"],
    "exercise3": ["bad_bn_after_relu", "bad_no_relu", "bad_avg_pool", "bad_no_batchnorm", "bad_cuda",
                  "bad_fresh_classifier", "good_lazy", "good_sequential"],
    "exercise4": ["bad_relu_before_add", "bad_no_final_relu", "bad_stride_on_second_conv", "bad_relu_on_shortcut",
                  "bad_no_skip", "bad_no_projection", "good_named", "good_shortcut_first"],
    "exercise5": ["bad_bn_drift", "bad_no_step", "bad_unfreezes_in_fine_tune", "bad_total_loss", "bad_head_float32",
                  "bad_head_on_cpu", "bad_model_never_moved", "bad_batches_never_moved", "bad_labels_never_moved",
                  "good_momentum_zero", "good_device_styles", "good_sgd"],
}
THIN = 0.5  # a key whose error uses more than this share of a tolerance is flagged (still a right verdict)


def expectation(path: Path) -> set[str] | None:
    """The checks a file must fail, from its docstring's `expect:` line; None for full marks (keys, good_*)."""
    if path.parent.name == "solutions":
        return None
    for line in (ast.get_docstring(ast.parse(path.read_text())) or "").splitlines():
        if line.startswith("expect:"):
            rest = line.removeprefix("expect:").strip()
            return None if rest == "full marks" else set(rest.removeprefix("fails").split())
    return None


def judge(expect: set[str] | None, checks: list) -> str:
    """'' when the verdict is right; else what is wrong. `checks` holds (name, status, message) triples."""
    failed = {name for name, status, _ in checks if status != "passed"}
    if expect is None:
        return "" if checks and not failed else f"should score full marks, but {sorted(failed)} did not pass"
    unknown = expect - {name for name, _, _ in checks}
    if unknown:
        return f"names unknown checks {sorted(unknown)}"
    return "" if expect <= failed else f"should fail {sorted(expect - failed)} too, but they passed"


def grade_one(exercise: str, path: str, device: str, seed: int | None, memory_mb: int | None) -> dict:
    """Grade one file (in a worker process); return plain data: checks, score, time, largest errors per check."""
    from grader.grading import compare
    from grader.grading.engine import grade_exercise
    from grader.grading.limits import DEFAULT as LIMITS
    from grader.grading.exercises import resolve

    resolve(exercise).checks()  # import the checks (and torch) before the clock starts
    with compare.recording() as seen:
        started = time.perf_counter()
        report = grade_exercise(exercise, submission=path, device=device, seed=seed,
                                memory_mb=memory_mb or LIMITS.memory_mb)
        seconds = time.perf_counter() - started
    largest: dict[str, tuple[float, float]] = {}
    for check, error, eps in seen:
        if check not in largest or error / eps > largest[check][0] / largest[check][1]:
            largest[check] = (error, eps)
    return {"device": report.device, "score": report.score, "max_score": report.max_score, "seconds": seconds,
            "checks": [(c.name, c.status, c.message.splitlines()[0][:160] if c.message else "") for c in report.checks],
            "largest": largest}


def report_line(label: str, result: dict, expect: set[str] | None) -> tuple[str, bool]:
    """The printed lines for one graded file, and whether its verdict is right."""
    wrong = judge(expect, result["checks"])
    lines = [f"{'right' if not wrong else 'WRONG'}  {label:<52} {result['score']:g}/{result['max_score']:g} on "
             f"{result['device']}  {result['seconds']:.1f} s" + (f"  -- {wrong}" if wrong else "")]
    for name, status, message in result["checks"]:
        if status != "passed" and (expect is None or wrong or name in expect):
            lines.append(f"       {name}: {status}: {message}")
    for name, (error, eps) in sorted(result["largest"].items()):
        share = error / eps
        flag = "  <- thin margin" if expect is None and THIN < share <= 1 else ""
        size = f"{share:.0%} of it" if share < 10 else f"{share:.3g}x it"
        lines.append(f"       {name}: largest error {error:.2e}, tolerance {eps:.0e} ({size}){flag}")
    return "\n".join(lines), not wrong


def files(exercises: list[str], only: list[str]) -> tuple[list, list]:
    """(keys, others) as (exercise, path) pairs: every key of the exercises, and the chosen files (or `only`)."""
    keys = [(p.stem.split("_")[0], p) for p in sorted((REPO / "solutions").glob("exercise*.py"))
            if p.stem.split("_")[0] in exercises]
    others = [(ex, REPO / "tests" / "submissions" / ex / f"{stem}.py") for ex in exercises
              for stem in (only or CHOSEN.get(ex, [])) if (REPO / "tests" / "submissions" / ex / f"{stem}.py").exists()]
    return keys, others


def outcome(job: futures.Future, label: str, expect: set[str] | None) -> tuple[str, bool, dict | None]:
    """What to print for a finished grading, whether its verdict is right, and its result (None if it broke)."""
    try:
        result = job.result()
    except Exception as e:  # noqa: BLE001 - a tool error (e.g. the device failed in the sandbox) is a wrong verdict
        return f"WRONG  {label}  -- grading stopped: {type(e).__name__}: {str(e)[:400]}", False, None
    return (*report_line(label, result, expect), result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu", "mps"])
    parser.add_argument("--exercise", action="append", default=[], help="N or exerciseN (repeatable; default all)")
    parser.add_argument("--only", action="append", default=[],
                        help="beside the keys, grade only this file of tests/submissions/exerciseN/ (stem; repeatable)")
    parser.add_argument("--jobs", type=int, default=min(12, os.cpu_count() or 1),
                        help="parallel gradings of the non-key files (default: the cores, at most 12)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the hidden inputs (default: each exercise's)")
    parser.add_argument("--memory", type=int, default=None, help="--memory of each run, MiB (default: the grader's)")
    args = parser.parse_args(argv)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():  # in this process only: workers are spawned
        print(f"gpu_check: skipped, CUDA is not available here (torch {torch.__version__}, built for CUDA "
              f"{torch.version.cuda or 'none'}). Nothing was graded.")
        return 0
    if args.device == "mps" and not torch.backends.mps.is_available():
        print("gpu_check: skipped, MPS is not available here. Nothing was graded.")
        return 0
    exercises = [e if e.startswith("exercise") else f"exercise{e}" for e in args.exercise] or \
        [f"exercise{n}" for n in range(1, 6)]
    keys, others = files(exercises, args.only)
    devices = ["cpu", args.device] if args.device != "cpu" else ["cpu"]
    print(f"gpu_check on {args.device}: {len(keys)} keys on {' and '.join(devices)}, {len(others)} other files; "
          f"torch {torch.__version__}" + (f", {torch.cuda.get_device_name(0)}" if args.device == "cuda" else ""))
    all_right, timings = True, {}
    spawn = multiprocessing.get_context("spawn")
    with futures.ProcessPoolExecutor(1, mp_context=spawn) as one:  # keys one at a time: fair timings
        for exercise, path in keys:
            for device in devices:
                job = one.submit(grade_one, exercise, str(path), device, args.seed, args.memory)
                text, right, result = outcome(job, str(path.relative_to(REPO)), None)
                print(text, flush=True)
                all_right &= right
                timings.setdefault(path.stem, {})[device] = result["seconds"] if result else float("nan")
    if others:
        with futures.ProcessPoolExecutor(max(1, args.jobs), mp_context=spawn) as pool:
            jobs = {pool.submit(grade_one, ex, str(path), args.device, args.seed, args.memory): path
                    for ex, path in others}
            for job in futures.as_completed(jobs):
                path = jobs[job]
                text, right, _ = outcome(job, str(path.relative_to(REPO)), expectation(path))
                print(text, flush=True)
                all_right &= right
    if timings:
        print("\nkey            " + "".join(f"{d:>10}" for d in devices))
        for stem, by_device in timings.items():
            print(f"{stem:<15}" + "".join(f"{by_device.get(d, float('nan')):>9.1f}s" for d in devices))
    print(f"\ngpu_check: {'every verdict is right' if all_right else 'SOME VERDICTS ARE WRONG'} on {args.device}.")
    return 0 if all_right else 1


if __name__ == "__main__":
    sys.exit(main())
