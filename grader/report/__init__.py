"""Showing a grading run: rich text for people, JSON / JUnit / Gradescope files for machines."""

from grader.report.formats import FORMATS, to_gradescope, to_json, to_junit, write_atomic
from grader.report.text import print_report, print_summary

__all__ = [
    "FORMATS",
    "print_report",
    "print_summary",
    "to_gradescope",
    "to_json",
    "to_junit",
    "write_atomic",
]
