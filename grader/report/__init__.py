"""Showing a grading run: rich text for people, JSON / JUnit / Gradescope files for machines."""

from collections.abc import Callable

from grader.grading.results import Report
from grader.report.formats import to_json, to_junit
from grader.report.gradescope import to_gradescope
from grader.report.text import plain_text, print_report, print_summary

FORMATS: dict[str, Callable[[Report], str]] = {"json": to_json, "junit": to_junit, "gradescope": to_gradescope}

__all__ = [
    "FORMATS",
    "plain_text",
    "print_report",
    "print_summary",
    "to_gradescope",
    "to_json",
    "to_junit",
]
