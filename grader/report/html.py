"""The report as one self-contained HTML page: the text of each check, and pictures of what went wrong."""

from __future__ import annotations

from grader.grading.results import Report


def to_html(report: Report) -> str:
    """One exercise's report as a self-contained HTML page (images inline, no network)."""
    raise NotImplementedError
