"""JSON, JUnit and Gradescope output, and the atomic file writer."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from grader.files import write_atomic
from grader.report import FORMATS, to_gradescope, to_html, to_json, to_junit
from grader.report.formats import course_json, course_junit, source_location
from grader.grading.results import CheckResult, Heatmap, MissingExercise, Report

JUNIT_10 = xmlschema.XMLSchema(str(Path(__file__).with_name("junit-10.xsd")))

NASTY = "got \x00 NUL, bell \x07, escape \x1b[31m and <tag> & \"quotes\" [red]x[/]"


def make_report() -> Report:
    heat = Heatmap("diff", ((0.0, 0.5), (0.2, 0.0)), tolerance=0.1)
    return Report(
        exercise="exercise1",
        title="Convolution forward",
        submission="submissions/ex1.py",
        seed=1234,
        device="cpu",
        checks=(
            CheckResult("shape", "Output shape", "passed", 2, 2),
            CheckResult(
                "values", "Output values", "failed", 1.5, 3,
                message=NASTY, hint="flip the kernel", figures=(heat,),
            ),
            CheckResult(
                "grad", "Backward pass", "error", 0, 4,
                message="ZeroDivisionError: division by zero", traceback="Traceback ...",
            ),
            CheckResult("speed", "Runs in time", "timeout", 0, 1, message="took more than 10 s"),
        ),
        captured_output="epoch 1\nloss \x00 \x1b[2J <b>0.5</b>\n",
        notes=("refused import: socket",),
        duration=3.6,
    )


def test_json_has_exactly_the_documented_fields():
    data = json.loads(to_json(make_report()))

    assert set(data) == {"exercise", "submission", "score", "max_score", "seed", "device", "limits", "checks"}
    assert data["exercise"] == "exercise1"
    assert data["submission"] == "submissions/ex1.py"
    assert (data["score"], data["max_score"]) == (3.5, 10.0)
    assert (data["seed"], data["device"]) == (1234, "cpu")
    assert [c["status"] for c in data["checks"]] == ["passed", "failed", "error", "timeout"]
    for check in data["checks"]:
        keys = {"name", "title", "status", "score", "max_score", "message", "hint", "diagnosis", "fingerprint"}
        assert set(check) == keys
        assert isinstance(check["score"], float) and isinstance(check["max_score"], float)
    assert data["checks"][1]["message"] == NASTY  # kept exactly, JSON escapes it
    assert data["checks"][1]["hint"] == "flip the kernel"


def test_json_of_a_report_without_checks_is_still_one_object():
    empty = Report("exercise2", "Pooling", "p.py", 0, "cpu", checks=())
    data = json.loads(to_json(empty))
    assert data["checks"] == [] and data["score"] == 0.0


def test_junit_counts_and_messages():
    root = ET.fromstring(to_junit(make_report()))

    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "cnn-grade.exercise1"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "2")
    assert float(suite.get("time")) == pytest.approx(3.6)

    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "shape: Output shape",
        "values: Output values",
        "grad: Backward pass",
        "speed: Runs in time",
    ]
    assert {c.get("classname") for c in cases} == {"cnn-grade.exercise1"}
    assert list(cases[0]) == []

    failure = cases[1].find("failure")
    assert failure.get("type") == "failed"
    assert "<tag> & \"quotes\"" in failure.get("message")
    assert "\x00" not in failure.get("message") and "\x1b" not in failure.get("message")
    assert "hint: flip the kernel" in failure.text

    error = cases[2].find("error")
    assert error.get("type") == "error"
    assert error.get("message") == "ZeroDivisionError: division by zero"
    assert cases[3].find("error").get("type") == "timeout"
    assert cases[3].find("failure") is None


def test_junit_properties_and_cleaned_system_out():
    suite = ET.fromstring(to_junit(make_report())).find("testsuite")

    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["seed"] == "1234"
    assert props["device"] == "cpu"
    assert props["submission"] == "submissions/ex1.py"
    assert float(props["score"]) == 3.5

    out = suite.find("system-out").text
    assert "<b>0.5</b>" in out  # escaped on the way out, read back as text
    assert "\x00" not in out and "\x1b" not in out


def test_formats_table_names_every_format():
    assert FORMATS == {"json": to_json, "junit": to_junit, "gradescope": to_gradescope, "html": to_html}


def test_write_atomic_creates_folders_and_replaces(tmp_path):
    target = tmp_path / "out" / "deep" / "results.json"

    write_atomic(target, "first")
    write_atomic(target, "second ✓")

    assert target.read_text(encoding="utf-8") == "second ✓"
    assert os.listdir(target.parent) == ["results.json"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "results.xml"
    target.write_text("old")

    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "bad \udc80 surrogate")

    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["results.xml"]


def test_every_status_of_the_one_table_renders_in_every_format():
    import io

    from rich.console import Console

    from grader.report import print_report
    from grader.grading.results import STATUS_KINDS

    checks = tuple(CheckResult(name, f"check {name}", name, 1.0 if name == "passed" else 0.0, 1.0, message=f"m {name}")
                   for name in STATUS_KINDS)
    report = Report("exercise1", "t", "f.py", 1, "cpu", checks)
    console = Console(file=io.StringIO(), width=100, color_system=None)
    print_report(report, console)
    text = console.file.getvalue()
    root = ET.fromstring(to_junit(report))
    cases = {case.get("name").split(":")[0]: case for case in root.iter("testcase")}
    graded = json.loads(to_gradescope(report))["tests"]
    for (name, kind), test in zip(STATUS_KINDS.items(), graded):
        assert kind.symbol in text and (name == "passed" or kind.words in text)
        assert [child.tag for child in cases[name] if child.tag in ("failure", "error")] == ([kind.junit] if kind.junit else [])
        assert test["status"] == ("passed" if name == "passed" else "failed")
        assert kind.gradescope_lead in test["output"]
    assert [c["status"] for c in json.loads(to_json(report))["checks"]] == list(STATUS_KINDS)


# --- JUnit: where a check points, the course document, the junit-10 schema ---------------------------------

BUGGY = ("import numpy as np\n\n\ndef conv2d(x, weight, bias=None, stride=1, padding=0):\n"
         "    scale = 0\n"
         "    return x / scale + 1 // scale\n")  # line 6 raises


def annotation_position(suite: ET.Element, case: ET.Element) -> tuple[str, int]:
    """Where mikepenz/action-junit-report puts a case's annotation (its resolveFileAndLine rule)."""
    file = case.get("file") or suite.get("file") or case.get("classname").split(".")[-1]
    if case.get("line"):
        return file, int(case.get("line"))
    problem = case.find("failure") if case.find("failure") is not None else case.find("error")
    text = "" if problem is None else (problem.text or "").strip()
    matches = re.findall(" [^ ]*" + re.escape(file) + r".*?:\d+", text)
    return file, int(matches[-1].split(":")[-1]) if matches else 1


def located_report(submission: str = "work/ex1.py") -> Report:
    raised = (f'  File "{submission}", line 12, in conv2d\n    return helper(x)\n'
              f'  File "{submission}", line 7, in helper\n    return x[1:3] / 0\n'
              "ZeroDivisionError: division by zero\n")
    name = Path(submission).name
    return Report(
        exercise="exercise1", title="Convolution forward", submission=submission, seed=1, device="cpu",
        checks=(
            CheckResult("shape", "Output shape", "passed", 1, 1),
            CheckResult("raise", "Raises", "error", 0, 1, traceback=raised,
                        message=f"conv2d raised ZeroDivisionError: division by zero "
                                f"({name}, line 7: return x[1:3] / 0)"),
            CheckResult("syntax", "Parses", "error", 0, 1,
                        message=f"not run: SyntaxError in {name}, line 3: invalid syntax"),
            CheckResult("import", "Imports", "error", 0, 1,
                        message="not run: line 2: imports socket, which is refused"),
            CheckResult("device", "No device", "failed", 0, 1, message="Line 9 names a device (cuda)."),
            CheckResult("values", "Values", "failed", 0, 1, message="wrong values at [0, 1, 2]: 3 vs 4"),
            CheckResult("slow", "Speed", "timeout", 0, 1, message="conv2d did not return within 10 s"),
        ),
    )


def test_failure_and_error_both_carry_a_type():
    root = ET.fromstring(to_junit(located_report()))
    problems = [p for case in root.iter("testcase") for p in case if p.tag in ("failure", "error")]

    assert [(p.tag, p.get("type")) for p in problems] == [
        ("error", "error"), ("error", "error"), ("error", "error"),
        ("failure", "failed"), ("failure", "failed"), ("error", "timeout")]


def test_junit_points_each_case_at_the_students_line():
    root = ET.fromstring(to_junit(located_report()))
    (suite,) = root.findall("testsuite")
    cases = {case.get("name").split(":")[0]: case for case in suite.iter("testcase")}

    assert suite.get("file") == "work/ex1.py"
    positions = {name: annotation_position(suite, case) for name, case in cases.items()}
    # the innermost student frame (line 7), not the outer call (12) nor the "1:3" slice in the code line
    assert positions["raise"] == ("work/ex1.py", 7)
    assert positions["syntax"] == ("work/ex1.py", 3)
    assert positions["import"] == ("work/ex1.py", 2)
    assert positions["device"] == ("work/ex1.py", 9)
    assert positions["values"] == positions["slow"] == ("work/ex1.py", 1)  # no line known: the file's start
    assert "at work/ex1.py:7" == cases["raise"].find("error").text.splitlines()[-1]
    assert 'File "work/ex1.py", line 7, in helper' in cases["raise"].find("error").text  # CI readers can't use -v
    assert not any(line.startswith("at ") for line in cases["values"].find("failure").text.splitlines())


def test_source_location_reads_tracebacks_and_messages():
    report = located_report()
    located = {c.name: source_location(report, c) for c in report.checks}

    assert located == {"shape": ("work/ex1.py", None), "raise": ("work/ex1.py", 7), "syntax": ("work/ex1.py", 3),
                       "import": ("work/ex1.py", 2), "device": ("work/ex1.py", 9), "values": ("work/ex1.py", None),
                       "slow": ("work/ex1.py", None)}
    # another file's name with a line is not the student's line
    other = CheckResult("x", "x", "error", 0, 1, message="helper raised (grader_ex1.py, line 40: boom)")
    assert source_location(report, other) == ("work/ex1.py", None)


def test_a_notebook_gets_its_file_but_no_line():
    report = Report("exercise1", "t", "exercises/exercise1.ipynb", 1, "cpu", checks=(
        CheckResult("syntax", "Parses", "error", 0, 1,
                    message="not run: SyntaxError in exercise1.ipynb, cell 2, line 3: invalid syntax"),))
    suite = ET.fromstring(to_junit(report)).find("testsuite")

    assert source_location(report, report.checks[0]) == ("exercises/exercise1.ipynb", None)
    assert suite.get("file") == "exercises/exercise1.ipynb"
    assert annotation_position(suite, suite.find("testcase")) == ("exercises/exercise1.ipynb", 1)
    JUNIT_10.validate(to_junit(report))


def test_an_absolute_submission_inside_the_working_directory_is_made_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = str(tmp_path / "exercises" / "ex1.py")
    outside = str(tmp_path.parent / "elsewhere.py")

    suite = ET.fromstring(to_junit(located_report(inside))).find("testsuite")
    assert suite.get("file") == "exercises/ex1.py"
    raised = [c for c in suite.iter("testcase") if c.get("name").startswith("raise")][0]
    assert annotation_position(suite, raised) == ("exercises/ex1.py", 7)
    assert ET.fromstring(to_junit(located_report(outside))).find("testsuite").get("file") == outside


def course_reports() -> tuple[list[Report], list[MissingExercise]]:
    second = Report("exercise2", "Pooling", "exercises/exercise2.py", 2, "cpu",
                    (CheckResult("max", "Max pooling", "passed", 2, 2),), duration=1.25)
    missing = [MissingExercise("exercise3", "Training loop", 5.0, "exercises/exercise3.py")]
    return [make_report(), second], missing


def test_course_junit_is_one_document_with_a_failing_case_per_missing_file():
    reports, missing = course_reports()
    root = ET.fromstring(course_junit(reports, missing))

    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["cnn-grade.exercise1", "cnn-grade.exercise2", "cnn-grade.exercise3"]
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "2")
    assert float(root.get("time")) == pytest.approx(3.6 + 1.25)
    (case,) = suites[2].findall("testcase")
    assert case.get("name") == "file missing"
    failure = case.find("failure")
    assert failure.get("type") == "missing"
    assert "exercises/exercise3.py" in failure.get("message") and "exercise3" in failure.get("message")
    assert suites[2].get("file") == "exercises/exercise3.py"
    props = {p.get("name"): p.get("value") for p in suites[2].iter("property")}
    assert float(props["max_score"]) == 5.0
    # one exercise's suite is exactly what to_junit writes for it alone
    alone = ET.fromstring(to_junit(reports[0])).find("testsuite")
    alone.tail = suites[0].tail = None
    assert ET.tostring(alone) == ET.tostring(suites[0])


def test_course_json_is_one_object_for_every_exercise():
    reports, missing = course_reports()
    data = json.loads(course_json(reports, missing))

    assert set(data) == {"score", "max_score", "exercises", "missing"}
    assert (data["score"], data["max_score"]) == (3.5 + 2.0, 10.0 + 2.0 + 5.0)
    assert data["exercises"] == [json.loads(to_json(r)) for r in reports]
    assert data["missing"] == [{"exercise": "exercise3", "title": "Training loop", "max_score": 5.0,
                                "path": "exercises/exercise3.py"}]
    assert json.loads(course_json([])) == {"score": 0.0, "max_score": 0.0, "exercises": [], "missing": []}


@pytest.mark.parametrize("document", [
    pytest.param(lambda: to_junit(make_report()), id="one report"),
    pytest.param(lambda: to_junit(located_report()), id="located"),
    pytest.param(lambda: to_junit(Report("exercise2", "Pooling", "p.py", 0, "cpu", checks=())), id="no checks"),
    pytest.param(lambda: course_junit(*course_reports()), id="course with a missing file"),
    pytest.param(lambda: course_junit([], [MissingExercise("exercise4", "t", 3.0, "exercises/exercise4.ipynb")]),
                 id="only missing"),
])
def test_every_junit_variant_is_valid_junit_10(document):
    JUNIT_10.validate(document())


def test_graded_buggy_file_points_at_the_line_that_raised(tmp_path):
    (tmp_path / "buggy.py").write_text(BUGGY)
    run = subprocess.run([sys.executable, "-m", "grader", "exercise1", "--file", "buggy.py", "--format", "junit"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert run.returncode in (0, 1), run.stderr
    JUNIT_10.validate(run.stdout)
    suite = ET.fromstring(run.stdout).find("testsuite")
    assert suite.get("file") == "buggy.py"
    errors = [case for case in suite.iter("testcase") if case.find("error") is not None]
    assert errors and all(annotation_position(suite, case) == ("buggy.py", 6) for case in errors)
