"""Exercises 1, 2 and 4: each misconception of the table is graded under its own diagnosis id."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from grader.grading.results import PICTURES
from grader.instructor import misconceptions
from grader.report.text import plain_text
from tests.conftest import REPO, graded

EXERCISES = ("exercise1", "exercise2", "exercise4")
MISTAKES = [pytest.param(ex, m, id=f"{ex}-{m.id}") for ex in EXERCISES for m in misconceptions.for_exercise(ex)]


def mutant(ex: str, misconception, folder: Path) -> Path:
    """The key with the mistake made, written where a student's file would be."""
    applied = misconceptions.apply((REPO / "solutions" / f"{ex}.py").read_text(), misconception, f"{ex}.py")
    assert applied.applicable, applied.reason
    path = folder / misconception.id / f"{ex}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(applied.source)
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mutants")


def test_every_misconception_of_the_three_exercises_is_tested():
    assert {m.values[1].id for m in MISTAKES} >= {"kernel_flipped", "jump_ignored", "relu_before_addition"}
    assert len(MISTAKES) == sum(len(misconceptions.for_exercise(ex)) for ex in EXERCISES) == 15


@pytest.mark.parametrize("ex, misconception", MISTAKES)
def test_a_misconception_is_diagnosed_by_its_id(ex, misconception, folder):
    report = graded(ex, mutant(ex, misconception, folder))
    failed = [c for c in report.checks if not c.passed]
    assert misconception.id in {c.diagnosis for c in failed}, [(c.name, c.diagnosis) for c in failed]
    assert all(c.diagnosis for c in failed)  # every failure carries some id (its own or the registry's)
    assert all(c.diagnosis == "" for c in report.checks if c.passed)


@pytest.mark.parametrize("ex", EXERCISES)
def test_the_key_has_no_diagnosis(ex):
    report = graded(ex, REPO / "solutions" / f"{ex}.py")
    assert report.all_passed
    assert [c.diagnosis for c in report.checks] == [""] * len(report.checks)


# The mistakes whose failures carry pictures: a wrong output (exercises 1 and 4) or wrong receptive fields (2).
PICTURED = [p for p in MISTAKES if p.values[1].id in {"kernel_flipped", "jump_ignored", "kernel_times_depth",
                                                      "relu_before_addition", "no_final_relu",
                                                      "stride_on_second_conv", "relu_on_shortcut"}]


@pytest.mark.parametrize("ex, misconception", PICTURED)
def test_pictures_leave_the_text_report_as_it_was(ex, misconception, folder):
    report = graded(ex, mutant(ex, misconception, folder))
    assert any(isinstance(f, PICTURES) for c in report.checks for f in c.figures)
    without = dataclasses.replace(report, checks=tuple(
        dataclasses.replace(c, figures=tuple(f for f in c.figures if not isinstance(f, PICTURES)))
        for c in report.checks))
    text = plain_text(report)
    assert "(cannot draw" not in text
    assert text == plain_text(without)
