"""Gradescope's autograder results.json."""

from __future__ import annotations

import json
from collections.abc import Mapping

from grader.grading.results import STATUS_KINDS, CheckResult, Report
from grader.report.formats import _clean, _message_and_hint

# When Gradescope shows a test's result to students (its own four words).
GRADESCOPE_VISIBILITIES: tuple[str, ...] = ("visible", "hidden", "after_due_date", "after_published")


def to_gradescope(report: Report, visibility: str = "visible", per_check: Mapping[str, str] | None = None) -> str:
    """The report as a Gradescope autograder results.json; `per_check` maps check names to their own visibility."""
    per_check = dict(per_check or {})
    for value in (visibility, *per_check.values()):
        if value not in GRADESCOPE_VISIBILITIES:
            known = ", ".join(GRADESCOPE_VISIBILITIES)
            raise ValueError(f"Unknown Gradescope visibility {value!r}: use one of {known}.")
    tests = [
        {
            "name": _clean(c.title),
            "number": str(i),  # Gradescope documents test numbers as strings ("1.1")
            "score": float(c.score),
            "max_score": float(c.max_score),
            "status": "passed" if c.passed else "failed",
            "output": _clean(_gradescope_test_output(c)),
            "visibility": per_check.get(c.name, visibility),
        }
        for i, c in enumerate(report.checks, start=1)
    ]
    # No top-level visibility: that stays whatever the instructor set on the assignment.
    data = {
        "score": report.score,
        "execution_time": int(round(report.duration)),
        "output": _clean(_run_summary(report)),
        "tests": tests,
    }
    return json.dumps(data, indent=2) + "\n"


def _gradescope_test_output(check: CheckResult) -> str:
    # Gradescope only knows passed/failed, so say when the code crashed or ran out of time.
    lead = STATUS_KINDS[check.status].gradescope_lead
    parts = [lead] if lead else []
    if body := _message_and_hint(check):
        parts.append(body)
    return "\n".join(parts)


def _run_summary(report: Report) -> str:
    lines = [
        f"{report.exercise}: {report.title}",
        f"File graded: {report.submission}",
        f"Seed: {report.seed}  Device: {report.device}",
        f"Score: {report.score:g} / {report.max_score:g}",
    ]
    if report.notes:
        lines += ["", "Notes:", *(f"- {note}" for note in report.notes)]
    return "\n".join(lines)
