"""The command line as students and CI use it: CliRunner for detail, real subprocesses for the real thing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from tests.conftest import REPO, course_folder

CHECK_KEYS = {"name", "title", "status", "score", "max_score", "message", "hint", "diagnosis", "fingerprint"}
# The console script installed beside this Python (PATH may lag behind, e.g. under pyenv).
SCRIPT = next((str(p) for p in [Path(sys.executable).with_name("cnn-grade")] if p.exists()),
              shutil.which("cnn-grade") or "cnn-grade")


def run(args, cwd):
    """Invoke the CLI in `cwd` the way a shell would (stdout and stderr apart)."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def stubs(tmp_path):
    return course_folder(tmp_path / "stubs", "exercises/exercise1.py", "exercises/exercise2.py")


@pytest.fixture
def keys(tmp_path):
    return course_folder(tmp_path / "keys", "solutions/exercise1.py", "solutions/exercise2.py")


def test_first_run_on_the_stub_says_not_implemented(stubs):
    result = run(["exercise1"], stubs)
    assert result.exit_code == 1
    assert "not implemented yet" in result.stdout
    assert "Score: 0.0 / 19.0" in result.stdout
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", ["exercise1", "1", "conv2d", "EX1"])
def test_exercise_aliases_grade_the_same_file(keys, name):
    result = run([name, "--format", "json"], keys)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["exercise"] == "exercise1"
    assert report["score"] == report["max_score"] == 19.0


def test_json_is_exactly_one_object_with_the_documented_fields(tmp_path):
    noisy = tmp_path / "noisy.py"
    noisy.write_text((REPO / "solutions/exercise1.py").read_text() + '\nprint(\'{"score": 999}\')\n')
    result = run(["exercise1", "--file", str(noisy), "--format", "json", "--seed", "5"], tmp_path)
    report = json.loads(result.stdout)  # fails if anything else was printed
    assert set(report) == {"exercise", "submission", "score", "max_score", "seed", "device", "limits", "checks"}
    assert report["seed"] == 5 and report["device"] == "cpu" and report["submission"].endswith("noisy.py")
    assert report["score"] == 19.0
    for check in report["checks"]:
        assert set(check) == CHECK_KEYS
        assert check["status"] == "passed" and check["score"] == check["max_score"]


def test_junit_parses_back_with_one_case_per_check(stubs):
    result = run(["exercise2", "--format", "junit"], stubs)
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 9 and int(suite.get("tests")) == 9
    assert all(case.find("failure") is not None for case in cases)


def test_gradescope_output_file_and_text_report_on_the_terminal(keys):
    out = keys / "results" / "results.json"
    result = run(["exercise1", "--format", "gradescope", "--output", str(out)], keys)
    assert result.exit_code == 0
    assert "Score: 19.0 / 19.0" in result.stdout  # people reading the CI log still see the report
    data = json.loads(out.read_text())
    assert data["score"] == 19.0
    assert len(data["tests"]) == 14
    assert {t["status"] for t in data["tests"]} == {"passed"}
    assert sum(t["max_score"] for t in data["tests"]) == 19.0


def test_text_output_file_has_no_color_codes(stubs):
    out = stubs / "report.txt"
    run(["exercise1", "--output", str(out)], stubs)
    text = out.read_text()
    assert "not implemented yet" in text and "\x1b[" not in text


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_output_path_that_cannot_be_written_is_a_tool_error(stubs, fmt):
    (stubs / "taken").write_text("a file, where a folder would have to be")
    out = stubs / "taken" / "report.json"
    result = run(["exercise1", "--format", fmt, "--output", str(out)], stubs)
    assert result.exit_code == 2
    assert f"Cannot write {out}" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_exercise_is_a_tool_error(stubs):
    result = run(["exercise9"], stubs)
    assert result.exit_code == 2
    assert "Unknown exercise 'exercise9'" in result.stderr
    assert "exercise1 (conv2d)" in result.stderr
    assert result.stdout == ""


def test_missing_file_and_missing_folder_are_tool_errors(tmp_path):
    result = run(["exercise1", "--file", "nope.py"], tmp_path)
    assert result.exit_code == 2 and "No such file: nope.py" in result.stderr
    result = run(["exercise1"], tmp_path)
    assert result.exit_code == 2 and "No exercises/exercise1.py" in result.stderr


def test_bad_option_is_a_usage_error(stubs):
    assert run(["exercise1", "--timeout", "0"], stubs).exit_code == 2
    assert run(["exercise1", "--format", "yaml"], stubs).exit_code == 2


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_a_tool_error(stubs):
    result = run(["exercise1", "--device", "cuda"], stubs)
    assert result.exit_code == 2 and "no CUDA device" in result.stderr


def test_syntax_error_is_reported_with_line_and_caret(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import numpy as np\n\ndef conv2d(x, weight):\n    return x +\n")
    result = run(["exercise1", "--file", str(bad)], tmp_path)
    assert result.exit_code == 1
    assert "SyntaxError in broken.py, line 4" in result.stdout
    assert "return x +" in result.stdout and "^" in result.stdout
    assert "Score: 0.0 / 19.0" in result.stdout


def test_verbose_shows_the_student_traceback(tmp_path):
    bad = tmp_path / "typo.py"
    bad.write_text("import numpy as np\n\ndef conv2d(x, weight, bias=None, stride=1, padding=0):\n"
                   "    return np.zeroes(3)\n")
    quiet = run(["exercise1", "--file", str(bad)], tmp_path)
    loud = run(["exercise1", "--file", str(bad), "-v"], tmp_path)
    assert "AttributeError" in quiet.stdout and "run with -v" in quiet.stdout
    assert "traceback:" in loud.stdout and "in conv2d" in loud.stdout and "np.zeroes(3)" in loud.stdout


def test_list_shows_points_and_file_states(stubs):
    result = run(["list"], stubs)
    assert result.exit_code == 0
    assert "exercise1" in result.stdout and "19" in result.stdout and "stub" in result.stdout
    shutil.copy(REPO / "solutions/exercise1.py", stubs / "exercises/exercise1.py")
    assert "edited" in run(["list"], stubs).stdout
    run(["exercise1"], stubs)
    assert "complete" in run(["list"], stubs).stdout


def test_show_renders_the_statement(stubs):
    result = run(["show", "conv2d"], stubs)
    assert result.exit_code == 0 and "cross-correlation" in result.stdout


def test_all_grades_every_exercise_and_sums_up(stubs):
    shutil.copy(REPO / "solutions/exercise1.py", stubs / "exercises/exercise1.py")
    result = run(["all"], stubs)
    assert result.exit_code == 1  # exercise2 is still a stub
    # Exercises 3-5 have no file: listed with their points, not left out of the total.
    assert "Total: 19.0 / 83.0" in result.stdout
    assert result.stdout.count("no file") == 3 and "exercises/exercise3.py" in result.stdout


def test_real_subprocess_first_run_and_json(stubs, keys):
    env = {k: v for k, v in os.environ.items() if k != "CNN_GRADE_SEED"}
    first = subprocess.run([SCRIPT, "exercise1"], cwd=stubs, capture_output=True, text=True, env=env)
    assert first.returncode == 1 and "not implemented yet" in first.stdout and first.stderr == ""
    graded = subprocess.run([sys.executable, "-m", "grader", "2", "--format", "json"], cwd=keys,
                            capture_output=True, text=True, env=env)
    assert graded.returncode == 0, graded.stderr
    assert json.loads(graded.stdout)["score"] == 14.0
    unknown = subprocess.run([SCRIPT, "nine"], cwd=keys, capture_output=True, text=True, env=env)
    assert unknown.returncode == 2 and "Unknown exercise" in unknown.stderr and "Traceback" not in unknown.stderr


def test_missing_dataset_is_a_tool_error_naming_the_rebuild_command(keys, tmp_path, monkeypatch):
    shutil.copy(REPO / "solutions/exercise3.py", keys / "exercises/exercise3.py")
    empty = tmp_path / "no-data"
    empty.mkdir()
    monkeypatch.setenv("CNN_GRADE_DATA", str(empty))
    result = run(["exercise3"], keys)
    assert result.exit_code == 2
    assert "python datasets/make_shapes.py" in result.stderr and "Traceback" not in result.output


def test_ctrl_c_exits_130_not_the_code_for_a_failed_check():
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import REPO

    proc = subprocess.Popen([sys.executable, "-m", "grader", "exercise3", "--file", str(REPO / "solutions/exercise3.py")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # past start-up, into the checks
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, err)
    assert "Interrupted." in err and "Traceback" not in err and "Aborted" not in err


def test_an_unwritable_score_cache_never_costs_the_report(stubs, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CNN_GRADE_CACHE", str(blocker / "scores.json"))  # its folder cannot be made
    result = run(["exercise1"], stubs)
    assert result.exit_code == 1, result.output  # graded: the stub fails its checks, no tool error
    assert "Score: 0.0 / 19.0" in result.output and "Cannot write" not in result.output


@pytest.mark.parametrize("fmt", ["json", "junit", "gradescope"])
def test_all_writes_one_document_for_every_exercise(keys, fmt):
    result = run(["all", "--format", fmt], keys)
    assert result.exit_code == 1, result.output  # exercises 3-5 have no file
    if fmt == "junit":
        root = ET.fromstring(result.stdout)
        suites = {s.get("name"): s for s in root.iter("testsuite")}
        assert set(suites) == {f"cnn-grade.exercise{n}" for n in range(1, 6)}
        missing = suites["cnn-grade.exercise3"].find("testcase/failure")
        assert missing is not None and "exercises/exercise3.py" in missing.get("message")
        return
    data = json.loads(result.stdout)
    if fmt == "json":
        assert [e["exercise"] for e in data["exercises"]] == ["exercise1", "exercise2"]
        assert [m["exercise"] for m in data["missing"]] == ["exercise3", "exercise4", "exercise5"]
        assert (data["score"], data["max_score"]) == (33.0, 83.0)
    else:
        assert data["score"] == 33.0
        assert sum(t["max_score"] for t in data["tests"]) == 83.0


@pytest.mark.parametrize("option", ["--out", "--output"])
def test_out_names_the_report_file_and_output_stays_an_alias(keys, option):
    out = keys / "report.json"
    result = run(["exercise2", "--format", "json", option, str(out)], keys)
    assert result.exit_code == 0
    assert json.loads(out.read_text())["score"] == 14.0


def test_piped_text_has_no_trailing_padding(tmp_path):
    folder = course_folder(tmp_path, "exercises/exercise1.py")
    piped = subprocess.run([sys.executable, "-m", "grader", "exercise1"], cwd=folder, capture_output=True, text=True,
                           env={**os.environ, "COLUMNS": "80"})
    assert piped.returncode == 1 and "Score: 0.0 / 19.0" in piped.stdout
    assert [line for line in piped.stdout.splitlines() if line != line.rstrip()] == []


def test_a_syntax_error_is_said_once_where_it_is_shown(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import numpy as np\n\ndef conv2d(x, weight):\n    return x +\n")
    result = run(["exercise1", "--file", str(bad)], tmp_path)
    assert result.stdout.count("SyntaxError") == 1
    assert "above" not in result.stdout
    assert "All 14 checks" in result.stdout
    # The table lists the checks; the block under it does not list them again.
    assert result.stdout.count("computes with NumPy alone") == 1


def test_all_in_html_is_a_tool_error_that_says_what_to_run(keys):
    result = run(["all", "--format", "html"], keys)
    assert result.exit_code == 2 and "cnn-grade exerciseN --format html" in result.output


def test_html_report_is_written_beside_the_text_report(keys):
    out = keys / "report.html"
    result = run(["exercise1", "--format", "html", "--out", str(out)], keys)
    assert result.exit_code == 0 and "Score: 19.0 / 19.0" in result.stdout
    page = out.read_text()
    assert page.lstrip().lower().startswith("<!doctype html>") and "exercise1" in page
