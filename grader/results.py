"""What a grading run produces: plain frozen data, no display code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# failed: wrong behaviour; error: the code raised (or the grader broke); timeout: a time limit ended it;
# memory: it ran out of the memory allowed; crashed: the process running it exited or was killed.
Status = Literal["passed", "failed", "error", "timeout", "memory", "crashed"]
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "timeout", "memory", "crashed")
TROUBLE: tuple[str, ...] = ("error", "timeout", "memory", "crashed")  # the run was cut short, not judged


@dataclass(frozen=True)
class Heatmap:
    """Where a student's 2-D map differs from the reference: one absolute error per cell."""

    title: str
    values: tuple[tuple[float, ...], ...]  # (H, W) absolute differences
    tolerance: float


@dataclass(frozen=True)
class Table:
    """A small table shown under a check, e.g. student vs expected per layer."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Figure = Heatmap | Table


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check."""

    name: str
    title: str
    status: Status
    score: float
    max_score: float
    message: str = ""
    hint: str = ""
    figures: tuple[Figure, ...] = ()
    traceback: str = ""  # the student's traceback, shown with -v
    duration: float = 0.0  # seconds the check took

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Report:
    """Everything one grading run found, in check order."""

    exercise: str
    title: str
    submission: str
    seed: int
    device: str
    checks: tuple[CheckResult, ...]
    captured_output: str = ""
    output_truncated: bool = False
    notes: tuple[str, ...] = ()  # run-level remarks: refused imports, skipped notebook magics, ...
    duration: float = 0.0
    limits: tuple[str, ...] = ()  # the limits that were in force, in words ("10 s per call", ...)

    @property
    def score(self) -> float:
        return float(sum(c.score for c in self.checks))

    @property
    def max_score(self) -> float:
        return float(sum(c.max_score for c in self.checks))

    @property
    def all_passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)
