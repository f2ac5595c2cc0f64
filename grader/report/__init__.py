"""Showing a grading run: rich text for people, JSON / JUnit / Gradescope files for machines."""

from collections.abc import Callable

from grader.grading.results import Report
from grader.report.formats import course_json, course_junit, to_json, to_junit
from grader.report.gradescope import course_gradescope, to_gradescope
from grader.report.html import to_html  # imports Jinja2 and matplotlib only when called
from grader.report.text import plain_text, print_report, print_summary

FORMATS: dict[str, Callable[[Report], str]] = {"json": to_json, "junit": to_junit, "gradescope": to_gradescope,
                                               "html": to_html}
# One document for `cnn-grade all`: (reports, missing exercises) -> text.
COURSE_FORMATS: dict[str, Callable] = {"json": course_json, "junit": course_junit, "gradescope": course_gradescope}

__all__ = [
    "COURSE_FORMATS",
    "FORMATS",
    "course_gradescope",
    "course_json",
    "course_junit",
    "plain_text",
    "print_report",
    "print_summary",
    "to_gradescope",
    "to_html",
    "to_json",
    "to_junit",
]
