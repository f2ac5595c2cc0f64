"""Showing a grading run: rich text for people, JSON / JUnit / Gradescope files for machines."""

from grader.report.formats import FORMATS, to_gradescope, to_json, to_junit
from grader.report.text import plain_text, print_report, print_summary

__all__ = [
    "FORMATS",
    "plain_text",
    "print_report",
    "print_summary",
    "to_gradescope",
    "to_json",
    "to_junit",
]
