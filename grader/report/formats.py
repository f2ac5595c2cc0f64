"""Machine-readable reports: plain JSON and JUnit XML (Gradescope's results.json is in gradescope.py).

JUnit follows the Jenkins xUnit plugin's junit-10.xsd, which most readers accept. That schema allows
`file` on <testsuite> but neither `file` nor `line` on <testcase>, so the student's line travels as
the last line of the <failure>/<error> text, "at FILE:LINE": action-junit-report takes the file from
the suite and the line from the last "FILE...:N" it finds in that text.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath

from grader.grading.results import STATUS_KINDS, TROUBLE, CheckResult, MissingExercise, Report

# Everything XML 1.0 forbids (most C0 controls, NUL, lone surrogates, U+FFFE/U+FFFF).
# ElementTree escapes markup but happily writes these, and parsers then reject the file.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FRAME = re.compile(r'^\s*File "(?P<file>[^"\n]+)", line (?P<line>\d+)', re.MULTILINE)
# A static problem or a check naming a line of the student's source: "not run: line 3: ...", "Line 12 names ..."
_LEADING_LINE = re.compile(r"^(?:not run: )?line (\d+)\b", re.IGNORECASE)
_XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def to_json(report: Report) -> str:
    """The report as one JSON object: run details and one entry per check."""
    return json.dumps(_report_data(report), indent=2) + "\n"


def course_json(reports: Sequence[Report], missing: Iterable[MissingExercise] = ()) -> str:
    """Several exercises as one JSON object: totals, one `to_json` object per exercise, and the missing files."""
    missing = list(missing)
    data = {
        "score": float(sum(r.score for r in reports)),
        # A missing exercise still counts towards the total: it is worth nothing until handed in.
        "max_score": float(sum(r.max_score for r in reports) + sum(m.max_score for m in missing)),
        "exercises": [_report_data(r) for r in reports],
        "missing": [{"exercise": m.exercise, "title": m.title, "max_score": float(m.max_score), "path": m.path}
                    for m in missing],
    }
    return json.dumps(data, indent=2) + "\n"


def to_junit(report: Report) -> str:
    """The report as JUnit XML: one test suite, one test case per check."""
    return _document([_suite(report)])


def course_junit(reports: Sequence[Report], missing: Iterable[MissingExercise] = ()) -> str:
    """Several exercises as one JUnit document: one test suite per exercise, a failing one per missing file."""
    return _document([_suite(r) for r in reports] + [_missing_suite(m) for m in missing])


def source_location(report: Report, check: CheckResult) -> tuple[str, int | None]:
    """The student's file (relative to the working directory where possible) and the line a check points at, if any."""
    file = _display_path(report.submission)
    if report.submission.endswith(".ipynb"):
        return file, None  # its lines are "cell K, line J": no line of the .ipynb file itself
    frames = [int(m["line"]) for m in _FRAME.finditer(check.traceback) if _same_file(m["file"], report.submission)]
    if frames:
        return file, frames[-1]  # the innermost frame of the student's own code: where it raised
    name = re.escape(PurePath(report.submission).name)
    found = re.search(rf"(?<![\w.-]){name}, line (\d+)\b", check.message) or _LEADING_LINE.search(check.message)
    return file, int(found.group(1)) if found else None


def _report_data(report: Report) -> dict:
    return {
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
                "diagnosis": c.diagnosis,  # stable id of the misconception named ("" when passed)
                "fingerprint": c.fingerprint,  # digest of the wrong outputs of a failed check ("" otherwise)
            }
            for c in report.checks
        ],
    }


def _counts(suites: list[ET.Element]) -> dict[str, str]:
    total = {key: sum(int(s.get(key)) for s in suites) for key in ("tests", "failures", "errors")}
    seconds = sum(float(s.get("time")) for s in suites)
    return {key: str(value) for key, value in total.items()} | {"time": f"{seconds:.3f}"}


def _document(suites: list[ET.Element]) -> str:
    root = ET.Element("testsuites", {"name": "cnn-grade", **_counts(suites)})
    root.extend(suites)
    ET.indent(root)
    return _XML_HEADER + ET.tostring(root, encoding="unicode") + "\n"


def _suite(report: Report) -> ET.Element:
    suite_name = f"cnn-grade.{report.exercise}"
    counts = {
        "tests": str(len(report.checks)),
        "failures": str(sum(c.status == "failed" for c in report.checks)),
        "errors": str(sum(c.status in TROUBLE for c in report.checks)),
        "time": f"{report.duration:.3f}",
    }
    file = _display_path(report.submission)
    suite = ET.Element("testsuite", {"name": _clean(suite_name), **counts, "file": _clean(file)})
    _properties(suite, (("seed", report.seed), ("device", report.device), ("submission", report.submission),
                        ("score", report.score), ("max_score", report.max_score)))

    for check in report.checks:
        case = ET.SubElement(suite, "testcase", {"classname": _clean(suite_name),
                                                 "name": _clean(f"{check.name}: {check.title}"),
                                                 "time": f"{check.duration:.3f}"})
        element = STATUS_KINDS[check.status].junit
        if not element:
            continue
        _, line = source_location(report, check)
        problem = ET.SubElement(case, element, {"message": _clean(check.message), "type": check.status})
        problem.text = _clean(_details(check, file, line))

    if report.captured_output:
        ET.SubElement(suite, "system-out").text = _clean(report.captured_output)
    return suite


def _missing_suite(missing: MissingExercise) -> ET.Element:
    """A suite with one failing case, so an exercise without a file still shows in the CI's check run."""
    suite_name = f"cnn-grade.{missing.exercise}"
    suite = ET.Element("testsuite", {"name": _clean(suite_name), "tests": "1", "failures": "1", "errors": "0",
                                     "time": "0.000", "file": _clean(_display_path(missing.path))})
    _properties(suite, (("submission", missing.path), ("score", 0.0), ("max_score", float(missing.max_score))))
    case = ET.SubElement(suite, "testcase", {"classname": _clean(suite_name), "name": "file missing", "time": "0.000"})
    message = f"No file to grade for {missing.exercise} ({missing.title}): looked for {missing.path}."
    ET.SubElement(case, "failure", {"message": _clean(message), "type": "missing"}).text = _clean(message)
    return suite


def _properties(suite: ET.Element, pairs: Iterable[tuple[str, object]]) -> None:
    properties = ET.SubElement(suite, "properties")
    for name, value in pairs:
        ET.SubElement(properties, "property", {"name": name, "value": _clean(str(value))})


def _details(check: CheckResult, file: str, line: int | None) -> str:
    lines = [check.message] if check.message else []
    if check.hint:
        lines.append(f"hint: {check.hint}")
    if check.traceback.strip():
        # CI readers cannot pass -v: the student's own frames belong in the error's text, as in any JUnit file.
        lines += ["", check.traceback.rstrip()]
    if line is not None:
        lines.append(f"at {file}:{line}")  # last: readers take the last "FILE:N" in the text
    return "\n".join(lines)


def _display_path(path: str) -> str:
    """`path` relative to the working directory when it lies inside it, with forward slashes as GitHub expects."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(Path.cwd().resolve())
        except (OSError, ValueError):
            pass
    return candidate.as_posix()


def _same_file(frame_file: str, submission: str) -> bool:
    # The sandbox compiles the student's code under the very string Report.submission holds.
    if frame_file == submission:
        return True
    try:
        return os.path.samefile(frame_file, submission)
    except OSError:
        return False


def _clean(text: str) -> str:
    # Student text may hold NUL or terminal control codes; neither survives XML 1.0,
    # and Gradescope stores results in a database that refuses NUL.
    return _XML_ILLEGAL.sub("", text)
