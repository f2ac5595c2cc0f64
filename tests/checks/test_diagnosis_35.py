"""Exercises 3 and 5: each misconception of the table is graded under its own diagnosis id; the BatchNorm trap
draws how far each frozen layer's running statistics drifted."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from grader.grading.results import PICTURES, Bars
from grader.instructor import misconceptions
from grader.report.text import plain_text
from tests.conftest import REPO, graded

EXERCISES = ("exercise3", "exercise5")
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


def test_every_misconception_of_the_two_exercises_is_tested():
    ids = {m.values[1].id for m in MISTAKES}
    assert {"no_padding", "bn_after_relu", "classifier_hard_coded", "train_over_frozen_bn", "total_loss"} <= ids
    assert len(MISTAKES) == sum(len(misconceptions.for_exercise(ex)) for ex in EXERCISES) == 12


@pytest.mark.parametrize("ex, misconception", MISTAKES)
def test_a_misconception_is_diagnosed_by_its_id(ex, misconception, folder):
    # One grading per misconception (~10 s): the pictures' tests below reuse it from the session's cache.
    report = graded(ex, mutant(ex, misconception, folder))
    failed = [c for c in report.checks if not c.passed]
    assert misconception.id in {c.diagnosis for c in failed}, [(c.name, c.status, c.diagnosis) for c in failed]
    assert all(c.diagnosis for c in failed)
    assert all(c.diagnosis == "" for c in report.checks if c.passed)


@pytest.mark.parametrize("ex", EXERCISES)
def test_the_key_has_no_diagnosis_and_its_pictures_leave_the_text_as_it_was(ex):
    report = graded(ex, REPO / "solutions" / f"{ex}.py")
    assert report.all_passed
    assert [c.diagnosis for c in report.checks] == [""] * len(report.checks)
    assert any(isinstance(f, PICTURES) for c in report.checks for f in c.figures)
    without = dataclasses.replace(report, checks=tuple(
        dataclasses.replace(c, figures=tuple(f for f in c.figures if not isinstance(f, PICTURES)))
        for c in report.checks))
    assert plain_text(report) == plain_text(without)


def drift(report) -> Bars:
    check = next(c for c in report.checks if c.name == "fine_tune_bn_stats")
    (bars,) = [f for f in check.figures if isinstance(f, Bars)]
    (_, values), = bars.series
    assert len(values) == len(bars.labels)
    return bars


def test_the_batchnorm_trap_shows_each_frozen_layer_drifting_and_the_key_none(folder):
    trap = next(m for m in misconceptions.for_exercise("exercise5") if m.id == "train_over_frozen_bn")
    drifted = drift(graded("exercise5", mutant("exercise5", trap, folder)))
    kept = drift(graded("exercise5", REPO / "solutions" / "exercise5.py"))
    # Every BatchNorm outside layer4 is frozen (bn1, layer1..layer3), and model.train() moves each of them.
    assert "bn1" in drifted.labels and not any(label.startswith("layer4") for label in drifted.labels)
    assert drifted.labels == kept.labels
    assert all(v > 1e-3 for v in drifted.series[0][1])
    assert all(v == 0 for v in kept.series[0][1])
