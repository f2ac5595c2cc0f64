"""Exercise 4 checks on the key, the stub, styled correct solutions and one bug per file."""

import pytest

from tests.checks.submission_suite import (assert_bug_caught, assert_every_check_is_caught, assert_full_marks,
                                           assert_stub_scores_zero)
from tests.checks.exact import assert_bug_costs_only_its_checks
from tests.conftest import REPO, graded, submissions

EX = "exercise4"


@pytest.mark.parametrize("seed", [None, 7, 20261122])
def test_key_scores_full_marks(seed):
    assert_full_marks(graded(EX, REPO / "solutions" / "exercise4.py", seed))


def test_stub_scores_zero():
    assert_stub_scores_zero(EX)


@pytest.mark.parametrize("path", submissions(EX, "good"), ids=lambda p: p.stem)
def test_correct_styles_score_full_marks(path):
    assert_full_marks(graded(EX, path))


@pytest.mark.parametrize("path", submissions(EX, "bad"), ids=lambda p: p.stem)
def test_bug_is_caught_and_named(path):
    assert_bug_caught(EX, path)


@pytest.mark.parametrize("path", submissions(EX, "bad"), ids=lambda p: p.stem)
def test_bug_costs_only_its_checks(path):
    assert_bug_costs_only_its_checks(EX, path)


def test_every_check_is_failed_by_some_bug():
    assert_every_check_is_caught(EX)
