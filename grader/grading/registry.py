"""Declaring checks with @check and turning what a check does into a CheckResult."""

from __future__ import annotations

import ast
import time
import traceback
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Callable

from ..errors import CallTimeout, CheckFailed, ChildDied, StudentRaised, ToolError
from .results import CheckResult


@dataclass(frozen=True)
class CheckSpec:
    """One declared check: its name (the function's), points, title and body."""

    name: str
    title: str
    points: float
    run: Callable  # run(ctx) -> None; raises CheckFailed on wrong behaviour
    timeout: float | None = None  # per-call limit for this check, if not the run's default


@dataclass(frozen=True)
class Detail:
    """What a passing check still wants shown: a measured figure, a comparison table."""

    message: str = ""
    figures: tuple = ()


def check(*, points: float, title: str, timeout: float | None = None) -> Callable:
    """Declare a check: `@check(points=2, title="matches F.conv2d with stride 2")`."""

    def mark(fn: Callable) -> Callable:
        fn.__check_spec__ = CheckSpec(fn.__name__, title, float(points), fn, timeout)
        return fn

    return mark


def checks_of(module: ModuleType) -> list[CheckSpec]:
    """The checks a module declares, in the order they are written."""
    return [v.__check_spec__ for v in vars(module).values() if hasattr(v, "__check_spec__")]


def declared_checks(source: str) -> list[tuple[str, float]]:
    """(name, points) of each top-level `@check(points=...)` function in a check module's source, without running it.

    `cnn-grade list` shows points this way: importing a check module imports torch. Points that are
    not a literal raise ValueError; checks made some other way are not seen (a test compares with checks_of).
    """
    found = []
    for node in ast.parse(source).body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and _is_check(decorator.func):
                points = [k.value for k in decorator.keywords if k.arg == "points"]
                if not points:
                    raise ValueError(f"@check on {node.name} has no points=")
                value = ast.literal_eval(points[0])  # ValueError when it is not a literal
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"@check on {node.name} has points={value!r}, not a number")
                found.append((node.name, float(value)))
    return found


def _is_check(func: ast.expr) -> bool:
    """`check` or `something.check`: how check modules spell the decorator."""
    if isinstance(func, ast.Attribute):
        return func.attr == "check"
    return isinstance(func, ast.Name) and func.id == "check"


def _result(spec: CheckSpec, status: str, message: str = "", hint: str = "", **kw) -> CheckResult:
    score = spec.points if status == "passed" else 0.0
    return CheckResult(spec.name, spec.title, status, score, spec.points, message, hint, **kw)


def run_check(spec: CheckSpec, ctx) -> CheckResult:
    """Run one check; every way it can end becomes a CheckResult, never an exception."""
    started = time.perf_counter()
    result = _run(spec, ctx)
    if not result.passed and not result.diagnosis:
        # A failure that named no misconception is "this check's behaviour is wrong"; the rest say what stopped them.
        result = replace(result, diagnosis=spec.name if result.status == "failed" else result.status)
    if result.status == "failed":
        fingerprint = getattr(ctx, "fingerprint", None)
        result = replace(result, fingerprint=fingerprint() if callable(fingerprint) else "")
    return replace(result, duration=time.perf_counter() - started)


def _run(spec: CheckSpec, ctx) -> CheckResult:
    try:
        detail = spec.run(ctx)
    except CheckFailed as e:
        return _result(spec, "failed", e.message, e.hint, figures=e.figures, diagnosis=e.diagnosis)
    except StudentRaised as e:
        info = e.info
        if info.is_a("NotImplementedError"):
            return _result(spec, "failed", f"not implemented yet: {e.target} raises NotImplementedError",
                           "Replace the `raise NotImplementedError` in your file with your code.",
                           diagnosis="not_implemented")
        where = f" ({info.where})" if info.where else ""
        if info.is_a("MemoryError") or (info.is_a("RuntimeError") and "can't allocate memory" in info.message):
            return _result(spec, "memory", f"{e.target} ran out of memory (MemoryError){where}",
                           "The sandbox caps memory (see Limits below the report): look for arrays far larger than "
                           "the input, e.g. a copy per output pixel.", traceback=info.traceback)
        if info.is_a("BlockingIOError") and "temporarily unavailable" in info.message.lower():
            return _result(spec, "error", f"{e.target} could not start another process or thread: {info.message}{where}",
                           "The sandbox caps how many processes your code may start; none of the exercises needs any.",
                           traceback=info.traceback)
        return _result(spec, "error", f"{e.target} raised {info.type}: {info.message}{where}",
                       e.hint or "Run your file on a small example to reproduce it.",
                       traceback=info.traceback, diagnosis=e.diagnosis)  # a crash whose hint names the mistake
    except CallTimeout as e:
        return _result(spec, "timeout", f"{e.target} did not return within {e.seconds:g} s; the call was stopped",
                       "Look for a loop that never ends, or work that grows far faster than the input.")
    except ChildDied as e:
        return _result(spec, "memory" if e.memory else "crashed", f"the process running your code died: {e}",
                       "Your code must not exit, kill its process or exhaust memory.")
    except ToolError:  # the grader's own setup is broken (e.g. the dataset is missing): stop with one message
        raise
    except Exception:  # a bug in the grader: report it in this check, keep grading the rest
        return _result(spec, "error", "internal grader error (please report it):\n"
                       + traceback.format_exc(limit=-3).strip())
    if isinstance(detail, Detail):
        return _result(spec, "passed", detail.message, figures=tuple(detail.figures))
    return _result(spec, "passed")
