"""What a grading run produces: plain frozen data, no display code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["passed", "failed", "error", "timeout", "memory", "crashed"]


@dataclass(frozen=True)
class StatusKind:
    """What one status means and how every report format spells it (the one place to add a status)."""

    name: str
    meaning: str
    symbol: str  # the terminal report's mark
    colour: str
    words: str  # "timed out", in sentences
    junit: str  # the JUnit element: "" (passed), "failure" (judged wrong) or "error" (cut short, not judged)
    gradescope_lead: str = ""  # Gradescope knows only passed/failed: the first line says what happened


STATUS_KINDS: dict[str, StatusKind] = {k.name: k for k in (
    StatusKind("passed", "the behaviour is right", "✓", "green", "passed", ""),
    StatusKind("failed", "wrong behaviour, or not implemented yet", "✗", "red", "failed", "failure"),
    StatusKind("error", "the code raised, or could not be run", "!", "yellow", "error", "error",
               "Your code raised an error."),
    StatusKind("timeout", "a time limit ended it", "⏱", "magenta", "timed out", "error", "Your code ran out of time."),
    StatusKind("memory", "it ran out of the memory allowed", "M", "magenta", "out of memory", "error",
               "Your code ran out of memory."),
    StatusKind("crashed", "the process running it exited or was killed", "✝", "red", "crashed", "error",
               "The process running your code crashed."),
)}
STATUSES: tuple[str, ...] = tuple(STATUS_KINDS)
TROUBLE: tuple[str, ...] = tuple(k.name for k in STATUS_KINDS.values() if k.junit == "error")  # cut short, not judged


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


Grid = tuple[tuple[float, ...], ...]  # one 2-D map, (H, W)


@dataclass(frozen=True)
class Maps:
    """Pictures of 2-D maps side by side: a row per channel (or image), a column per kind.

    Exercise 1: yours / expected / difference per output channel; exercise 3: the feature maps after
    each block; exercise 4: the block's output difference. Only the HTML report draws them.
    """

    title: str
    columns: tuple[str, ...]  # e.g. ("yours", "expected", "difference")
    rows: tuple[tuple[str, tuple[Grid, ...]], ...]  # (row label, one map per column)
    caption: str = ""  # the diagnosis under the pictures ("a lit border: padding")
    diverging: tuple[str, ...] = ()  # columns drawn on a scale centred on zero (differences)


@dataclass(frozen=True)
class Curves:
    """Lines over training steps or epochs: learning curves, loss curves (HTML report only)."""

    title: str
    x_label: str
    y_label: str
    series: tuple[tuple[str, tuple[float, ...], tuple[float, ...]], ...]  # (label, x values, y values)
    caption: str = ""
    threshold: float | None = None  # a horizontal line the check judges against, if any


@dataclass(frozen=True)
class Bars:
    """One bar per label, in one or more series (HTML report only): e.g. BatchNorm statistics drift per layer."""

    title: str
    labels: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]  # (series label, one value per label)
    y_label: str = ""
    caption: str = ""


@dataclass(frozen=True)
class Fields:
    """Receptive fields drawn on the input grid, the student's against the measured (HTML report only)."""

    title: str
    input_size: int  # the side of the square input grid
    layers: tuple[tuple[str, int, int], ...]  # (layer name, student's receptive field, measured one)
    caption: str = ""


Figure = Heatmap | Table | Maps | Curves | Bars | Fields
PICTURES = (Maps, Curves, Bars, Fields)  # drawn only where images can be shown (the HTML report)


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
    # Stable id of the misconception a failure named ("kernel_flipped", "bn_after_relu"); for a failure
    # that names none, the check's own name; for code that raised or ran out of time, the status.
    diagnosis: str = ""
    fingerprint: str = ""  # digest of what the student's code returned in a failed check (same wrong answers)

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


@dataclass(frozen=True)
class MissingExercise:
    """An exercise `cnn-grade all` could not grade because the student has no file for it."""

    exercise: str
    title: str
    max_score: float
    path: str  # where the file was looked for, e.g. "exercises/exercise3.py"
