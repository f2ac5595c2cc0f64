"""A student's course folder as a whole: how far along each exercise's file is, and grading them all."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import NoSubmission, ToolError
from ..grading.exercises import Exercise, all_exercises
from ..grading.results import MissingExercise, Report


@dataclass(frozen=True)
class FileState:
    """One exercise and the state of the student's file for it."""

    exercise: Exercise
    points: float
    state: str  # "no file" | "both edited" | "complete" | "score" | "stub" | "edited"
    path: Path | None = None
    last: tuple[float, float] | None = None  # (score, max) of the last run on this exact file


def file_states() -> list[FileState]:
    """Each exercise with its points and the state of the file found from here (no torch imported)."""
    from .scores import last_score
    from ..grading.submission import is_stub, load, locate

    states = []
    for ex in all_exercises():
        points = ex.points()  # from the check modules' source: importing them would import torch
        try:
            path = locate(ex)
        except NoSubmission:
            states.append(FileState(ex, points, "no file"))
            continue
        except ToolError:  # both exerciseN.py and .ipynb were edited
            states.append(FileState(ex, points, "both edited"))
            continue
        last = last_score(path)
        if last is not None:
            state = "complete" if last[0] == last[1] else "score"
        else:
            state = "stub" if is_stub(ex, load(ex, path).source) else "edited"
        states.append(FileState(ex, points, state, path, last))
    return states


def grade_course(*, seed: int | None = None, device: str = "cpu", **limits) -> list[Report]:
    """Grade every exercise whose file exists (recording each score); a ToolError when there is none."""
    from ..grading.engine import grade_exercise
    from ..sandbox import zygote
    from .scores import record
    from ..grading.submission import locate

    zygote.enable()  # four exercises import torch in their child: fork them from one process that did it once
    reports = []
    for ex in all_exercises():
        try:
            locate(ex)
        except NoSubmission:
            continue
        report = grade_exercise(ex.name, seed=seed, device=device, **limits)
        record(report)
        reports.append(report)
    if not reports:
        raise ToolError("No exercise files found: run cnn-grade from your course folder (the one holding exercises/).")
    return reports


def missing_exercises() -> list[MissingExercise]:
    """The exercises with no file found from here: `all` reports them as failing, not as absent."""
    from ..grading.submission import locate

    missing = []
    for ex in all_exercises():
        try:
            locate(ex)
        except NoSubmission:
            missing.append(MissingExercise(ex.name, ex.title, ex.points(), f"exercises/{ex.name}.py"))
        except ToolError:
            pass  # both files edited: grading it says so
    return missing
