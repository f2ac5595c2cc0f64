"""Machine-readable reports: plain JSON and JUnit XML (Gradescope's results.json is in gradescope.py)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from grader.grading.results import STATUS_KINDS, TROUBLE, CheckResult, Report

# Everything XML 1.0 forbids (most C0 controls, NUL, lone surrogates, U+FFFE/U+FFFF).
# ElementTree escapes markup but happily writes these, and parsers then reject the file.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def to_json(report: Report) -> str:
    """The report as one JSON object: run details and one entry per check."""
    data = {
        "exercise": report.exercise,
        "submission": report.submission,
        "score": report.score,
        "max_score": report.max_score,
        "seed": report.seed,
        "device": report.device,
        "limits": list(report.limits),
        "checks": [
            {
                "name": c.name,
                "title": c.title,
                "status": c.status,
                "score": float(c.score),
                "max_score": float(c.max_score),
                "message": c.message,
                "hint": c.hint,
            }
            for c in report.checks
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def to_junit(report: Report) -> str:
    """The report as JUnit XML: one test suite, one test case per check."""
    suite_name = f"cnn-grade.{report.exercise}"
    failures = sum(c.status == "failed" for c in report.checks)
    errors = sum(c.status in TROUBLE for c in report.checks)
    counts = {
        "tests": str(len(report.checks)),
        "failures": str(failures),
        "errors": str(errors),
        "time": f"{report.duration:.3f}",
    }
    root = ET.Element("testsuites", {"name": "cnn-grade", **counts})
    suite = ET.SubElement(root, "testsuite", {"name": _clean(suite_name), **counts})

    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("seed", report.seed),
        ("device", report.device),
        ("submission", report.submission),
        ("score", report.score),
        ("max_score", report.max_score),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _clean(str(value))})

    for check in report.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": _clean(suite_name), "name": _clean(f"{check.name}: {check.title}"),
             "time": f"{check.duration:.3f}"},
        )
        element = STATUS_KINDS[check.status].junit
        if not element:
            continue
        attributes = {"message": _clean(check.message)} | ({"type": check.status} if element == "error" else {})
        problem = ET.SubElement(case, element, attributes)
        problem.text = _clean(_message_and_hint(check))

    if report.captured_output:
        ET.SubElement(suite, "system-out").text = _clean(report.captured_output)

    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _clean(text: str) -> str:
    # Student text may hold NUL or terminal control codes; neither survives XML 1.0,
    # and Gradescope stores results in a database that refuses NUL.
    return _XML_ILLEGAL.sub("", text)


def _message_and_hint(check: CheckResult) -> str:
    lines = [check.message] if check.message else []
    if check.hint:
        lines.append(f"hint: {check.hint}")
    return "\n".join(lines)
