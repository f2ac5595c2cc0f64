"""The terminal report, rendered into a plain 100-column console."""

from __future__ import annotations

import io
import re

from rich.console import Console

from grader.report import print_report, print_summary
from grader.grading.results import CheckResult, Heatmap, Report, Table

DIFF = Heatmap(
    "output difference",
    values=((0.0, 0.01, 0.4), (0.9, 0.0, 0.2)),
    tolerance=0.05,
)
HUGE = Heatmap("huge difference", values=tuple((1.0,) * 60 for _ in range(40)), tolerance=0.1)
SHAPES = Table(
    "shapes per layer",
    columns=("layer", "student", "expected"),
    rows=(("conv1", "(1, 8, 30, 30)", "(1, 8, 28, 28)"),),
)


def make_report(**changes) -> Report:
    fields = dict(
        exercise="exercise1",
        title="Convolution forward",
        submission="submissions/ex1.py",
        seed=1234,
        device="cpu",
        checks=(
            CheckResult("shape", "Output shape", "passed", 2, 2),
            CheckResult(
                "values", "Output values", "failed", 0, 3,
                message="values differ at [red]row 2[/]", hint="did you flip the kernel? [/]",
                figures=(DIFF, SHAPES),
            ),
            CheckResult(
                "grad", "Backward pass", "error", 0, 4,
                message="ZeroDivisionError: division by zero",
                traceback='File "ex1.py", line 12, in backward\nZeroDivisionError',
            ),
            CheckResult("speed", "Runs in time", "timeout", 0, 1, message="took more than 10 s"),
        ),
        captured_output="".join(f"step {i} [bold]done[/bold]\n" for i in range(1, 41)),
        notes=("refused import: [b]socket[/b]",),
    )
    return Report(**{**fields, **changes})


def render(report: Report, **kwargs) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None)
    print_report(report, console, **kwargs)
    return console.file.getvalue()


def test_header_and_check_table():
    out = render(make_report())
    assert "exercise1" in out and "Convolution forward" in out
    assert "submissions/ex1.py" in out and "1234" in out and "cpu" in out
    assert re.search(r"✓\s+2/2\s+Output shape", out)
    assert re.search(r"✗\s+0/3\s+Output values", out)
    assert re.search(r"!\s+0/4\s+Backward pass", out)
    assert re.search(r"⏱\s+0/1\s+Runs in time", out)


def test_failed_checks_show_message_and_hint_literally():
    out = render(make_report())
    assert "values differ at [red]row 2[/]" in out
    assert "hint: did you flip the kernel? [/]" in out
    assert "took more than 10 s" in out
    assert "refused import: [b]socket[/b]" in out
    assert "step 40 [bold]done[/bold]" in out


def test_passed_checks_get_no_detail_block():
    out = render(make_report())
    assert "Output values — failed" in out
    assert "Output shape —" not in out


def test_score_line():
    out = render(make_report())
    assert out.rstrip().endswith("Score: 2.0 / 10.0")
    assert "all checks passed" not in out

    passing = make_report(checks=(CheckResult("shape", "Output shape", "passed", 2, 2),))
    assert "Score: 2.0 / 2.0  all checks passed" in render(passing)


def test_captured_output_shows_the_tail_and_counts_hidden_lines():
    out = render(make_report())
    assert "25 earlier lines hidden, -v shows all" in out
    assert "step 26 [bold]done[/bold]" in out
    assert "step 25 [bold]done[/bold]" not in out


def test_verbose_shows_all_output_and_the_traceback():
    quiet, loud = render(make_report()), render(make_report(), verbose=True)
    assert "line 12, in backward" not in quiet
    assert "line 12, in backward" in loud
    assert "step 1 [bold]done[/bold]" in loud
    assert "hidden" not in loud


def test_truncated_output_is_flagged():
    assert "(truncated)" not in render(make_report())
    assert "(truncated)" in render(make_report(output_truncated=True))


def test_terminal_escapes_in_student_output_are_removed():
    out = render(make_report(captured_output="\x1b[2Jcleared?\x1b]0;title\x07\nloading 10%\rloading 100%\n"))
    assert "\x1b" not in out and "\x07" not in out
    assert "cleared?" in out
    assert "loading 100%" in out and "loading 10%" not in out


def test_table_figure_is_drawn():
    out = render(make_report())
    assert "shapes per layer" in out
    assert re.search(r"conv1\s+│\s+\(1, 8, 30, 30\)\s+│\s+\(1, 8, 28, 28\)", out)


def test_heatmap_is_drawn_with_a_legend():
    out = render(make_report())
    lines = out.splitlines()
    title = next(i for i, line in enumerate(lines) if "output difference" in line)
    grid = [line.strip() for line in lines[title + 1 : title + 3]]
    # Without color, glyphs shade by share of the max (0.9): 0.4 is ▒, 0.2 is ░, 0.9 is █.
    assert grid == ["····▒▒", "██··░░"]
    assert "max |diff| = 0.9" in out


def test_huge_heatmap_is_skipped_and_said_so():
    check = CheckResult("values", "Output values", "failed", 0, 3, figures=(HUGE,))
    out = render(make_report(checks=(check,)))
    assert "huge difference" in out
    assert "too large to draw" in out
    assert "██" not in out and "░░" not in out


def test_heatmap_with_nan_still_draws():
    nan_map = Heatmap("nan map", values=((float("nan"), 0.0),), tolerance=0.1)
    check = CheckResult("values", "Output values", "failed", 0, 3, figures=(nan_map,))
    out = render(make_report(checks=(check,)))
    assert "1 cells are NaN or infinite" in out


def test_summary_lists_each_exercise_and_a_total():
    second = Report(
        "exercise2", "Max pooling", "ex2.py", 0, "cpu",
        checks=(CheckResult("pool", "Pooling", "passed", 5, 5),),
    )
    console = Console(file=io.StringIO(), width=100, color_system=None)
    print_summary([make_report(), second], console)
    out = console.file.getvalue()

    assert re.search(r"exercise1\s+│\s+Convolution forward\s+│\s+2\s+│\s+10", out)
    assert re.search(r"exercise2\s+│\s+Max pooling\s+│\s+5\s+│\s+5\s+│\s+✓ all passed", out)
    assert "1 failed, 1 error, 1 timed out" in out
    assert "Total: 7.0 / 15.0" in out


def test_failures_with_one_diagnosis_are_one_block_whatever_their_inputs():
    hint = "Your output equals a true convolution: you flipped the kernel."
    checks = tuple(CheckResult(f"values_{i}", f"matches F.conv2d case {i}", "failed", 0, 2,
                               message=f"For x (3, {i}, {i}) your values differ.", hint=hint) for i in range(5, 9))
    other = CheckResult("errors", "raises ValueError", "failed", 0, 1, message="returned normally", hint="Raise it.")
    out = render(make_report(checks=(*checks, other), captured_output="", notes=()))
    assert out.count(hint) == 1  # said once
    assert "4 checks — failed for the same reason, 0/8 points:" in out
    for i in range(5, 9):  # every check of the block is still named
        assert f"· matches F.conv2d case {i}" in out
    assert "e.g. For x (3, 5, 5)" in out and "(3, 6, 6)" not in out  # one example of the inputs
    assert "✗ raises ValueError — failed, 0/1 points" in out  # another diagnosis: a block of its own
