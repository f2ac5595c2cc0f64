"""JSON, JUnit and Gradescope output, and the atomic file writer."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from grader.files import write_atomic
from grader.report import FORMATS, to_gradescope, to_json, to_junit
from grader.grading.results import CheckResult, Heatmap, Report

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
        keys = {"name", "title", "status", "score", "max_score", "message", "hint"}
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


def test_gradescope_fields_per_test():
    data = json.loads(to_gradescope(make_report()))

    allowed = {"score", "output", "tests", "execution_time", "visibility", "stdout_visibility"}
    assert set(data) <= allowed
    assert data["score"] == 3.5
    assert data["execution_time"] == 4
    assert "exercise1" in data["output"] and "submissions/ex1.py" in data["output"]
    assert "1234" in data["output"] and "refused import: socket" in data["output"]

    tests = data["tests"]
    assert [t["name"] for t in tests] == ["Output shape", "Output values", "Backward pass", "Runs in time"]
    assert [t["number"] for t in tests] == ["1", "2", "3", "4"]
    assert [t["status"] for t in tests] == ["passed", "failed", "failed", "failed"]
    assert [t["score"] for t in tests] == [2.0, 1.5, 0.0, 0.0]
    assert [t["max_score"] for t in tests] == [2.0, 3.0, 4.0, 1.0]
    assert {t["visibility"] for t in tests} == {"visible"}
    assert "hint: flip the kernel" in tests[1]["output"]
    assert "\x00" not in tests[1]["output"]  # Gradescope's database refuses NUL
    assert "ran out of time" in tests[3]["output"]  # Gradescope has no "timeout" status


def test_formats_table_names_every_format():
    assert FORMATS == {"json": to_json, "junit": to_junit, "gradescope": to_gradescope}


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
