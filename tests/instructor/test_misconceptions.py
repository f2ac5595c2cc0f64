"""Misconception mutants: every one applies to its key, and verify reports what they catch and name."""

from __future__ import annotations

import ast
import io

import pytest
from rich.console import Console

from grader.instructor import misconceptions as mistakes
from grader.grading.exercises import EXERCISES
from grader.grading.results import CheckResult
from grader.instructor.verify import verify
from grader.instructor.verify_text import print_verify
from tests.conftest import REPO

SOLUTIONS = REPO / "solutions"
ALL = [(ex, m) for ex, table in mistakes.TABLE.items() for m in table]


def test_every_exercise_has_a_small_table_of_distinct_misconceptions():
    assert set(mistakes.TABLE) == {ex.name for ex in EXERCISES}
    for exercise, table in mistakes.TABLE.items():
        assert 3 <= len(table) <= 6, exercise
        assert len({m.id for m in table}) == len(table), exercise
        for m in table:
            assert m.id.isidentifier() and m.description and m.edits
            assert m.named_by and all(word == word.lower() and word.strip() for word in m.named_by)


@pytest.mark.parametrize("exercise, misconception", ALL, ids=[f"{ex}-{m.id}" for ex, m in ALL])
def test_each_misconception_applies_to_its_key(exercise, misconception):
    key = (SOLUTIONS / f"{exercise}.py").read_text(encoding="utf-8")
    applied = mistakes.apply(key, misconception, f"{exercise}.py")
    assert applied.applicable, applied.reason
    assert applied.source != key
    assert ast.dump(ast.parse(applied.source)) != ast.dump(ast.parse(key))  # more than a comment changed
    compile(applied.source, f"{exercise}.py", "exec")
    for old, new in misconception.edits:
        assert new in applied.source


KEY = """def f(x):
    # BEGIN SOLUTION
    y = x + 1
    z = x + 1
    return y
    # END SOLUTION


w = x * 2
"""


@pytest.mark.parametrize("old, reason", [
    ("return x", "not found"),  # a course's own key spelt differently
    ("x + 1", "found 2 times"),
    ("x * 2", "not found"),  # outside the solution regions it does not count
])
def test_a_snippet_not_found_once_inside_the_regions_is_not_applicable(old, reason):
    applied = mistakes.apply(KEY, mistakes.Misconception("m", "m", ((old, "x"),), ("m",)))
    assert not applied.applicable and applied.source is None
    assert reason in applied.reason


def test_edits_apply_together_and_a_broken_result_is_not_applicable():
    both = mistakes.Misconception("m", "m", (("y = x + 1", "y = x - 1\n    y = -y"), ("return y", "return z")), ("m",))
    assert mistakes.apply(KEY, both).source == KEY.replace("y = x + 1", "y = x - 1\n    y = -y").replace(
        "return y", "return z")
    broken = mistakes.Misconception("m", "m", (("return y", "return (y"),), ("m",))
    assert "does not compile" in mistakes.apply(KEY, broken).reason


def test_named_needs_a_failing_check_whose_feedback_has_every_word():
    m = mistakes.Misconception("m", "m", (("y = x + 1", "y = x"),), ("kernel", "flipped"))
    applied = mistakes.apply(KEY, m)

    def check(status, message="", hint=""):
        return CheckResult("c", "c", status, 0.0, 1.0, message, hint)

    assert mistakes.judge(applied, [check("passed", "the kernel flipped")]).caught_by == ()
    run = mistakes.judge(applied, [check("failed", "Your output equals a true convolution", "the KERNEL\n  was flipped")])
    assert run.caught and run.named and not run.missed
    run = mistakes.judge(applied, [check("error", "the kernel is wrong")])
    assert run.caught and not run.named and run.missed


def test_verify_reports_the_shares_and_lists_what_was_missed(monkeypatch):
    """Exercise 4 judged by one check: some mistakes go unseen, one is caught but never named."""
    real = mistakes.TABLE["exercise4"]
    no_final_relu = next(m for m in real if m.id == "no_final_relu")
    unnamed = mistakes.Misconception("unnamed", "no final ReLU, named by words no check uses",
                                     no_final_relu.edits, ("zebra crossing",))
    foreign = mistakes.Misconception("foreign", "a snippet another course's key would have",
                                     (("out = F.relu(out)", "out = out"),), ("relu",))
    monkeypatch.setitem(mistakes.TABLE, "exercise4", (*real, unnamed, foreign))

    # relu_after_add sees only negative outputs: the stride's place and a ReLU on the shortcut pass it.
    result = verify(exercises=["4"], source=SOLUTIONS, seeds="1", mutants=0, checks={"4": ["relu_after_add"]})
    (ex,) = result.exercises
    assert result.ok and ex.mutants == ()
    runs = {run.misconception.id: run for run in ex.misconceptions}
    assert list(runs) == [m.id for m in (*real, unnamed, foreign)]
    assert not runs["foreign"].applicable and "not found" in runs["foreign"].reason
    assert len(ex.graded_misconceptions) == len(real) + 1
    for missed in ("stride_on_second_conv", "relu_on_shortcut"):
        assert not runs[missed].caught and runs[missed].missed
    for seen in ("no_final_relu", "relu_before_addition", "unnamed"):
        assert runs[seen].caught_by == ("relu_after_add",)
    assert not runs["unnamed"].named and runs["unnamed"].missed
    graded = ex.graded_misconceptions
    assert ex.misconception_caught_share == sum(r.caught for r in graded) / len(graded) <= 4 / 6
    assert ex.misconception_named_share == sum(r.named for r in graded) / len(graded)
    assert {r.misconception.id for r in ex.missed_misconceptions} >= {"stride_on_second_conv", "relu_on_shortcut",
                                                                       "unnamed"}
    assert "foreign" not in {r.misconception.id for r in ex.missed_misconceptions}

    buffer = io.StringIO()
    print_verify(result, Console(file=buffer, width=200, no_color=True))
    text = buffer.getvalue()
    caught = sum(r.caught for r in graded)
    assert f"{caught} of 6 caught ({caught / 6:.0%})" in text
    assert f"missed misconceptions ({len(ex.missed_misconceptions)})" in text
    assert "stride_on_second_conv: not caught" in text
    assert "unnamed: caught by relu_after_add, but the feedback never says 'zebra crossing'" in text
    assert "foreign: `out = F.relu(out)` not found" in text


def test_verify_can_skip_the_misconceptions():
    result = verify(exercises=["4"], source=SOLUTIONS, seeds="1", mutants=0, checks={"4": ["no_conv_bias"]},
                    misconceptions=False)
    (ex,) = result.exercises
    assert ex.misconceptions == () and ex.misconception_caught_share is None and ex.missed_misconceptions == ()
