"""One grading run: find the file, start the sandbox, run every check, collect a Report."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

from . import submission as submissions
from .context import Context
from ..errors import ToolError
from .exercises import Exercise, resolve
from .limits import DEFAULT, Limits
from .registry import run_check
from .results import CheckResult, Report
from ..sandbox.parent import Sandbox

SEED_VARIABLE = "CNN_GRADE_SEED"  # an instructor's CI sets it to change the hidden inputs


def resolve_seed(exercise_seed: int, seed: int | None) -> int:
    """--seed wins, then the instructor's environment variable, then the exercise's fixed seed."""
    if seed is not None:
        return int(seed)
    value = os.environ.get(SEED_VARIABLE, "").strip()
    if value:
        try:
            return int(value)
        except ValueError:
            raise ToolError(f"{SEED_VARIABLE}={value!r} is not an integer.") from None
    return exercise_seed


def resolve_device(device: str) -> str:
    """Turn cpu|cuda|mps|auto into a device that exists here, or a ToolError."""
    device = device.lower()
    if device == "cpu":
        return "cpu"
    # Ask NVML, not the CUDA driver: a driver started here would make later plain forks of this process unsafe.
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    import torch

    cuda, mps = torch.cuda.is_available(), bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if device == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if device == "cuda" and not cuda:
        raise ToolError("--device cuda: no CUDA device is available on this machine (try --device auto).")
    if device == "mps" and not mps:
        raise ToolError("--device mps: no Apple MPS device is available on this machine (try --device auto).")
    if device not in ("cuda", "mps"):
        raise ToolError(f"Unknown device {device!r}: use cpu, cuda, mps or auto.")
    return device


def select_checks(specs: list, names: Iterable[str] | None) -> list:
    """The specs named in `names`, in declaration order; an unknown name is a ToolError."""
    if names is None:
        return specs
    wanted = set(names)
    unknown = wanted - {s.name for s in specs}
    if unknown:
        raise ToolError(f"Unknown check(s): {', '.join(sorted(unknown))}. Known: {', '.join(s.name for s in specs)}.")
    return [s for s in specs if s.name in wanted]


def grade_exercise(exercise: str, *, submission: str | Path | None = None, seed: int | None = None,
                   device: str = "cpu", timeout: float = DEFAULT.timeout,
                   memory_mb: int | None = DEFAULT.memory_mb, checks: Iterable[str] | None = None,
                   total_timeout: float | None = DEFAULT.total_timeout) -> Report:
    """Grade one exercise's submission and return the Report (tool errors raise ToolError).

    `checks` keeps only the named checks (an instructor measuring a subset of the hidden tests).
    """
    started = time.perf_counter()
    ex = resolve(exercise)
    path = submissions.locate(ex, submission)
    sub = submissions.load(ex, path)
    seed = resolve_seed(ex.default_seed, seed)
    Limits(timeout, total_timeout, memory_mb)  # out of range: a ToolError before anything starts
    deadline = started + total_timeout if total_timeout else None

    sandbox, output, truncated, limits = None, "", False, ()
    device = resolve_device(device)  # free for "cpu"; the child must know its device before it starts
    if not sub.problems and not sub.empty:
        # Start the child first: it imports its libraries while this process imports torch below.
        sandbox = Sandbox(sub.source, str(path), imports=ex.child_imports, blocked=ex.blocked,
                          memory_mb=memory_mb, timeout=timeout, relabel=sub.relabel, device=device,
                          hide=(str(Path(ex.key_file).resolve().parent),) if ex.key_file else ())  # a pack's key
        sandbox.start()
    try:
        specs = select_checks(ex.checks(), checks)
        # The file cannot run (a syntax error, a refused import) or has no code yet: every check gets the
        # whole explanation (with the caret under the line), so the report says it once, in one block.
        if sub.problems:
            results = [CheckResult(s.name, s.title, "error", 0.0, s.points, f"not run: {sub.problems[0]}",
                                   "Fix this, then grade again.", diagnosis="cannot_load") for s in specs]
        elif sub.empty:
            results = [CheckResult(s.name, s.title, "failed", 0.0, s.points, f"not run: {empty_note(ex, path)}",
                                   diagnosis="no_code") for s in specs]
        else:
            results = [run_within(deadline, total_timeout, s, Context(
                sandbox, seed=seed, device=device, check_name=s.name, place=sub.place,
                timeout=max(s.timeout or 0.0, timeout))) for s in specs]
    finally:
        if sandbox is not None:
            sandbox.close()
            output, truncated = sandbox.output  # complete only once the child is gone
            limits = sandbox.limits_in_force(total=total_timeout)
    notes = sub.problems[1:] + sub.notes
    if sandbox is not None and sandbox.stragglers:
        notes += (f"Your code left {sandbox.stragglers} process(es) running; they were ended with the run.",)
    return Report(ex.name, ex.title, str(path), seed, device, tuple(results), output, truncated,
                  notes=notes, duration=time.perf_counter() - started, limits=limits)


def empty_note(exercise: Exercise, path: Path) -> str:
    """What to do about a file with no code yet: which names to write, and where."""
    where = "its code cells" if path.suffix == ".ipynb" else "it"
    what = ", ".join(exercise.functions) or "your code"
    return (f"{path.name} has no code yet, so no check could run: write {what} in {where} "
            f"as the exercise's statement describes, save, and grade again.")


def run_within(deadline: float | None, total: float | None, spec, ctx: Context) -> CheckResult:
    """Run one check with its calls cut to the time the whole run has left; past the deadline, don't start it."""
    if deadline is not None:
        left = deadline - time.perf_counter()
        if left <= 0:
            return CheckResult(spec.name, spec.title, "timeout", 0.0, spec.points,
                               f"not run: the run's time limit ({total:g} s in all) was used up by earlier checks",
                               "Make your code faster: the checks before this one took all the time.",
                               diagnosis="timeout")
        ctx.timeout = min(ctx.timeout, max(left, 0.1))
    return run_check(spec, ctx)
