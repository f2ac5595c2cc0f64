"""Gradescope's results.json: valid by the specification's schema, and the terminal's feedback in every test."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from grader.grading.results import STATUS_KINDS, CheckResult, Heatmap, MissingExercise, Report, Table
from grader.report import to_gradescope
from grader.report.gradescope import course_gradescope, gradescope_message
from grader.report.text import OUTPUT_TAIL_LINES, check_text
from tests.conftest import SUBMISSIONS
from tests.report.test_formats import make_report

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
CLI_ADVICE = re.compile(r"(?<![\w-])(-v|--verbose)(?![\w-])")
PRINTED = "line {i} \x1b[31mred\x1b[0m ``` \x00 <b>bold</b>"

# An answer key that prints at import, turns every value upside down and divides by zero when strided:
# a heat map, the grader's own error hint and 40 lines of output with escapes, NUL and backticks.
WRONG = (SUBMISSIONS / "exercise1" / "good_einsum.py").read_text() + f'''

_right = conv2d
for i in range(40):
    print(f"{PRINTED.encode('unicode_escape').decode()}")


def conv2d(x, weight, bias=None, stride=1, padding=0):
    if stride != 1:
        return 1 / 0
    return _right(x, weight, bias, stride, padding)[:, ::-1]
'''


@pytest.fixture(scope="module")
def graded_wrong(tmp_path_factory) -> Report:
    """One real grading run of WRONG (a few seconds), shared by the tests below."""
    from grader.grading.engine import grade_exercise

    path = tmp_path_factory.mktemp("wrong") / "exercise1.py"
    path.write_text(WRONG)
    return grade_exercise("exercise1", submission=path)


def table_report() -> Report:
    table = Table("per layer", ("layer", "yours", "expected"), (("conv1", "5", "3"), ("pool", "6 <i>", "4")))
    heat = Heatmap("diff", ((0.0, 0.5), (0.2, float("nan"))), tolerance=0.1)
    return Report("exercise2", "Receptive field", "exercise2.py", 7, "cpu", (
        CheckResult("trace_sizes", "Sizes per layer", "failed", 0, 2, message="wrong sizes", hint="look at padding",
                    figures=(table, heat)),
        CheckResult("receptive_field", "Receptive field", "passed", 3, 3),
    ))


def strings(value) -> list[str]:
    """Every string in a JSON document, keys aside."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def fenced_blocks(markdown: str) -> list[str]:
    """The contents of the fenced code blocks of a Markdown text (fences of three or more backticks)."""
    return [m.group(2) for m in re.finditer(r"^(`{3,})text\n(.*?)\n\1$", markdown, re.S | re.M)]


def assert_valid(document: str) -> dict:
    data = json.loads(document)
    VALIDATOR.validate(data)
    for text in strings(data):
        assert "\x00" not in text and "\x1b" not in text  # Gradescope's database refuses NUL
        assert not CLI_ADVICE.search(text), text  # there is no -v on Gradescope
    return data


# -- the schema ------------------------------------------------------------------------------


def test_the_schema_is_valid_and_has_teeth():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    VALIDATOR.validate({"score": 1, "output": "x", "output_format": "md", "tests": [{"name": "a", "max_score": 1}]})
    VALIDATOR.validate({"tests": [{"score": 1.0, "number": "1.1", "status": "passed"}]})
    for wrong in (
        {"tests": [{"name": "no score here or above"}]},
        {"score": 1, "tests": [{"score": 0, "status": "timeout"}]},  # only passed and failed
        {"score": 1, "tests": [{"score": 0, "number": 1}]},  # numbers are strings
        {"score": 1, "output_format": "markdown"},
        {"score": 1, "visibility": "sometimes"},
        {"score": 1, "tests": [{"score": 0, "message": "not a field"}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(wrong)


@pytest.mark.parametrize("report", [
    make_report(),
    table_report(),
    Report("exercise1", "t", "f.py", 1, "cpu", tuple(
        CheckResult(name, f"check {name}", name, float(name == "passed"), 1.0, message=f"m {name}",
                    traceback=f"Traceback {name}") for name in STATUS_KINDS)),
    Report("exercise1", "t", "f.py", 1, "cpu", (), notes=("skipped `%matplotlib` (run with -v to see it)",)),
], ids=["failed-error-timeout", "table-heatmap", "every-status", "notes-no-checks"])
def test_results_follow_the_specification(report):
    data = assert_valid(to_gradescope(report))

    assert data["output_format"] == data["test_output_format"] == "md" and data["test_name_format"] == "text"
    assert {t["output_format"] for t in data["tests"]} <= {"md"}
    assert data["stdout_visibility"] == "hidden"  # the instructors' log holds every check, held back or not
    assert data["extra_data"]["exercise"] == report.exercise


def test_a_real_run_follows_the_specification_without_cli_advice(graded_wrong):
    data = assert_valid(to_gradescope(graded_wrong))

    stride = next(t for t in data["tests"] if t["tags"] == ["values_stride"])
    assert stride["status"] == "failed" and stride["output"].startswith(STATUS_KINDS["error"].gradescope_lead)
    assert "Run your file on a small example to reproduce it." in stride["output"]
    assert "ZeroDivisionError" in stride["output"] and "traceback:" in stride["output"]  # what -v would show


@pytest.mark.parametrize("hint, kept", [
    ("Run your file on a small example to reproduce it; -v shows the full traceback.",
     "Run your file on a small example to reproduce it."),
    ("Check the shapes (run with -v to see the traceback), then the values.", "Check the shapes, then the values."),
    ("Rerun with --verbose.", ""),
    ("Use np.pad; keep -vx and x-v as they are.", "Use np.pad; keep -vx and x-v as they are."),
])
def test_advice_about_the_terminal_flag_is_dropped_and_the_rest_kept(hint, kept):
    check = CheckResult("bias", "Bias", "error", 0, 1, message="conv2d raised ZeroDivisionError", hint=hint,
                        traceback="Traceback (most recent call last):\n  line 3\nZeroDivisionError")
    (test,) = assert_valid(to_gradescope(Report("exercise1", "t", "f.py", 1, "cpu", (check,))))["tests"]
    assert f"hint: {kept}\n" in test["output"] if kept else "hint" not in test["output"]
    assert "ZeroDivisionError" in test["output"].split("traceback:")[1]  # what -v shows in a terminal


def test_the_no_file_message_follows_the_specification():
    data = assert_valid(gradescope_message("No exercise1.py in \x00your submission."))
    assert data == {"score": 0.0, "output": "No exercise1.py in your submission.", "output_format": "text",
                    "stdout_visibility": "hidden"}


# -- the feedback in each test ---------------------------------------------------------------


def test_each_failed_test_shows_the_terminal_block_in_a_code_block():
    report = table_report()
    data = json.loads(to_gradescope(report))
    failed, passed = data["tests"]

    (block,) = fenced_blocks(failed["output"])
    assert block == check_text(report.checks[0], verbose=True, cli_advice=False).rstrip("\n")
    for seen in ("per layer", "conv1", "6 <i>", "hint: look at padding", "diff", "··", "NaN or infinite"):
        assert seen in block
    assert passed["output"] == ""  # nothing to add to a passed check's name and points


def test_a_real_run_shows_heat_maps_and_the_tail_of_the_printed_output(graded_wrong):
    data = json.loads(to_gradescope(graded_wrong))

    plain = next(t for t in data["tests"] if t["tags"] == ["values_plain"])
    (block,) = fenced_blocks(plain["output"])
    assert block.startswith("✗ ") and "max |diff|" in block and "██" in block

    summary, notes_or_output = data["output"].split("**Output of your code", 1)
    assert f"its last {OUTPUT_TAIL_LINES} lines of 40" in notes_or_output
    (printed,) = fenced_blocks(notes_or_output)
    lines = printed.split("\n")
    assert lines == [f"line {i} red ```  <b>bold</b>" for i in range(40 - OUTPUT_TAIL_LINES, 40)]
    assert "````text\n" in notes_or_output  # a longer fence: the student's ``` cannot end the block
    assert f"Score: {graded_wrong.score:g} / 19\n" in summary and "Seed: " in summary


def test_check_names_are_in_tags_and_extra_data_and_choose_the_visibility():
    report = make_report()
    data = json.loads(to_gradescope(report, "after_published", {"values": "hidden"}))

    assert [t["tags"] for t in data["tests"]] == [[c.name] for c in report.checks]
    assert [t["extra_data"]["check"] for t in data["tests"]] == [c.name for c in report.checks]
    assert [t["extra_data"]["status"] for t in data["tests"]] == [c.status for c in report.checks]
    assert {t["tags"][0]: t["visibility"] for t in data["tests"]} == {
        "shape": "after_published", "values": "hidden", "grad": "after_published", "speed": "after_published"}


def test_a_held_back_check_keeps_the_total_out_of_the_summary():
    report = make_report()
    shown = json.loads(to_gradescope(report))["output"]
    held = json.loads(to_gradescope(report, "visible", {"values": "after_due_date"}))["output"]

    assert "Score: 3.5 / 10" in shown
    assert "3.5" not in held and "Score: shown when every result is released" in held


def test_gradescope_fields_per_test():
    data = assert_valid(to_gradescope(make_report()))

    assert data["score"] == 3.5 and data["execution_time"] == 4
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
    assert "ran out of time" in tests[3]["output"]  # Gradescope has no "timeout" status


# -- every exercise in one document ----------------------------------------------------------


def test_course_results_hold_every_exercise_and_each_missing_file_as_a_failed_test():
    ten = Report("exercise10", "Pooling", "exercises/exercise10.py", 3, "cpu",
                 (CheckResult("pool", "Max pooling", "passed", 2, 2),), captured_output="hello\n", duration=1.4)
    missing = MissingExercise("exercise3", "Three-block CNN", 20.0, "exercises/exercise3.py")

    data = assert_valid(course_gradescope([ten, make_report()], [missing]))

    names = [t["name"] for t in data["tests"]]
    assert names == ["exercise1: Output shape", "exercise1: Output values", "exercise1: Backward pass",
                     "exercise1: Runs in time", "exercise3: Three-block CNN", "exercise10: Max pooling"]
    assert [t["number"] for t in data["tests"]] == ["1.1", "1.2", "1.3", "1.4", "2", "3.1"]
    gap = data["tests"][4]
    assert (gap["status"], gap["score"], gap["max_score"]) == ("failed", 0.0, 20.0)
    assert "No file was found at exercises/exercise3.py" in gap["output"]
    assert gap["extra_data"] == {"exercise": "exercise3", "missing": "exercises/exercise3.py"}
    assert data["tests"][1]["tags"] == ["values"] and data["tests"][5]["extra_data"]["exercise"] == "exercise10"
    assert (data["score"], data["extra_data"]["max_score"]) == (5.5, 32.0)
    assert "Total: 5.5 / 32" in data["output"] and "exercise10: Output of your code" in data["output"]
    assert "exercise1: Notes" in data["output"] and data["execution_time"] == 5
    assert data["extra_data"]["missing"] == ["exercise3"]
