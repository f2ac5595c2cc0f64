"""`cnn-grade verify` on the real keys, on a weak check set, and on keys that are wrong."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner
from rich.console import Console

from grader.cli import cli
from grader.errors import ToolError
from grader.instructor.verify import parse_seeds, verify
from grader.instructor.verify_text import print_verify, progress_bar
from tests.conftest import REPO

SOLUTIONS = REPO / "solutions"


def rendered(result) -> str:
    buffer = io.StringIO()
    print_verify(result, Console(file=buffer, width=200, no_color=True))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def real():
    """Exercises 1 and 4 from the real keys: two seeds, a few mutants; progress calls recorded.

    The misconception mutants have their own tests (tests/test_misconceptions.py): skipped here.
    """
    calls = []
    result = verify(exercises=["exercise1", "4"], source=SOLUTIONS, seeds="2", mutants=4, misconceptions=False,
                    progress=lambda label, done, total: calls.append((label, done, total)))
    return result, calls


def test_real_keys_score_full_marks_on_every_seed(real):
    result, _ = real
    assert result.ok
    one, four = result.exercises
    assert (one.exercise, four.exercise) == ("exercise1", "exercise4")
    assert sorted({run.label for run in one.keys}) == ["exercise1.py", "exercise1_loops.py"]
    assert sorted((run.label, run.seed) for run in one.keys) == [
        ("exercise1.py", 1001), ("exercise1.py", 1002), ("exercise1_loops.py", 1001), ("exercise1_loops.py", 1002)]
    assert [run.seed for run in four.keys] == [4004, 4005]
    assert all(run.score == run.max_score > 0 and not run.missed for ex in result.exercises for run in ex.keys)


def test_real_stubs_score_a_clean_zero(real):
    result, _ = real
    for ex in result.exercises:
        assert ex.stub_ok
        assert ex.stub.score == 0 and ex.stub.checks == len(ex.stub.missed) > 0
        assert all(status == "failed" and "not implemented yet" in message for _, status, message in ex.stub.missed)


def test_real_mutants_are_graded_and_counted(real):
    result, calls = real
    for ex in result.exercises:
        assert len(ex.mutants) == 4 and ex.candidates > 4
        assert ex.share == ex.caught / 4
        assert len(ex.survivors) == 4 - ex.caught
        assert sum(count for _, count in ex.catches) == sum(len(run.caught_by) for run in ex.mutants)
    # 4 + 2 key runs, 2 stubs, 8 mutants: each reported once, the count ending at the total
    assert len(calls) == 16 and [done for _, done, _ in calls] == list(range(1, 17))
    assert {total for _, _, total in calls} == {16}


def test_report_shows_each_exercise(real):
    text = rendered(real[0])
    assert "exercise1.py        19/19 at seeds 1001, 1002" in text
    assert "0/11, every check fails" in text
    assert "sampled from" in text and "Every key scores full marks and every stub a clean zero" in text


def test_a_weak_check_set_leaves_mutants_alive():
    result = verify(exercises=["conv2d"], source=SOLUTIONS, seeds="1", mutants=8,
                    checks={"1": ["returns_array"]}, misconceptions=False)
    (ex,) = result.exercises
    assert result.ok and ex.checks == ("returns_array",)
    assert ex.stub.checks == 1 and all(run.max_score == 1 for run in ex.keys)
    assert len(ex.survivors) >= 3 and ex.share < 1
    assert all(run.caught_by == ("returns_array",) for run in ex.mutants if run.caught)
    text = rendered(result)
    assert f"surviving mutants ({len(ex.survivors)})" in text
    for mutant in ex.survivors:
        assert mutant.description in text
        assert mutant.description.startswith(f"line {mutant.line}: `")


def wrong_keys(tmp_path):
    """exercise1 whose bias has the wrong sign; exercise4 without solution markers."""
    folder = tmp_path / "keys"
    folder.mkdir()
    key = (SOLUTIONS / "exercise1.py").read_text()
    assert key.count("out = out + bias") == 1
    (folder / "exercise1.py").write_text(key.replace("out = out + bias", "out = out - bias"))
    key = (SOLUTIONS / "exercise4.py").read_text()
    (folder / "exercise4.py").write_text(key.replace("# BEGIN SOLUTION", "#").replace("# END SOLUTION", "#"))
    return folder


def test_a_key_losing_points_or_a_stub_scoring_fails_verify(tmp_path):
    result = verify(source=wrong_keys(tmp_path), seeds="1", mutants=0, misconceptions=False)
    one, four = result.exercises
    assert not result.ok
    assert not one.keys_ok and one.stub_ok
    assert ("bias", "failed") in {(name, status) for name, status, _ in one.keys[0].missed}
    assert four.keys_ok and not four.stub_ok and four.stub.score == four.stub.max_score
    assert four.notes and "no # BEGIN SOLUTION" in four.notes[0]
    assert one.share is None and four.candidates == 0
    text = rendered(result)
    assert "bias failed" in text and "Not verified: exercise1, exercise4" in text


def test_cli_exit_code_as_a_subprocess(tmp_path):
    wrong = wrong_keys(tmp_path)
    command = [sys.executable, "-m", "grader", "verify", "--seeds", "1", "--mutants", "0", "--no-misconceptions",
               "--source"]
    bad = subprocess.run([*command, str(wrong), "1"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1, bad.stderr
    assert "Not verified: exercise1" in bad.stdout and "Traceback" not in bad.stderr
    assert re.search(r"✗ +exercise1.py +\d+/19 at seed 1001: .*bias failed", bad.stdout)
    assert bad.stderr.strip() == ""  # no progress bar when stderr is not a terminal
    assert "misconceptions" not in bad.stdout


def test_cli_weak_check_lists_survivors(tmp_path):
    shutil.copy(SOLUTIONS / "exercise4.py", tmp_path / "exercise4.py")
    result = CliRunner().invoke(cli, ["verify", "residual", "--source", str(tmp_path), "--seeds", "1",
                                      "--mutants", "4", "--check", "no_conv_bias"])
    assert result.exit_code == 0, result.output
    assert re.search(r"checks kept +no_conv_bias", result.stdout)
    assert "1/1 at seed 4004" in result.stdout
    assert "surviving mutants" in result.stdout and "→" in result.stdout
    # no_conv_bias cannot see a misplaced ReLU: the misconception mutants say so, by name
    assert re.search(r"misconceptions +\d of 5 caught \(\d+%\), \d named in the feedback", result.stdout)
    assert re.search(r"missed misconceptions \([1-5]\)", result.stdout)
    assert "relu_before_addition: not caught: every check passes" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["verify", "--source", "/nonexistent/keys"], "No folder /nonexistent/keys"),
    (["verify", "7"], "Unknown exercise '7'"),
    (["verify", "1", "4", "--check", "bias"], "give exactly one exercise"),
    (["verify", "1", "--check", "nonsense"], "Unknown check(s): nonsense"),
    (["verify", "1", "--seeds", "two"], "--seeds wants a count"),
])
def test_cli_tool_errors_are_one_line_exit_2(args, message):
    result = CliRunner().invoke(cli, [*args, "--source", str(SOLUTIONS)] if "--source" not in args else args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_a_named_exercise_without_a_key_is_a_tool_error(tmp_path):
    shutil.copy(SOLUTIONS / "exercise4.py", tmp_path / "exercise4.py")
    with pytest.raises(ToolError, match="No key .*exercise1.py"):
        verify(exercises=["1"], source=tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ToolError, match="No solution keys"):
        verify(source=tmp_path / "empty")


def test_progress_bar_draws_on_a_terminal_only():
    terminal, pipe = io.StringIO(), io.StringIO()
    with progress_bar(Console(file=terminal, force_terminal=True, width=100)) as step:
        step("exercise1: stub", 1, 2)
        step("exercise1: mutant0", 2, 2)
    assert "2/2" in terminal.getvalue()
    with progress_bar(Console(file=pipe, width=100)) as step:
        assert step is None
    assert pipe.getvalue() == ""


def test_parse_seeds():
    assert parse_seeds("3", 1001) == (1001, 1002, 1003)
    assert parse_seeds(" 1, 7,7 ,2 ", 1001) == (1, 7, 2)
    assert parse_seeds("1", 5) == (5,)
    for bad in ("0", "-2", "x", "", ",", "1,a"):
        with pytest.raises(ToolError, match="--seeds"):
            parse_seeds(bad, 1)
