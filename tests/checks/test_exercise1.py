"""Exercise 1 checks on the keys, the stub, styled correct solutions and one bug per file."""

import pytest

from tests.checks.submission_suite import (assert_bug_caught, assert_every_check_is_caught, assert_full_marks,
                                           assert_stub_scores_zero)
from tests.conftest import REPO, graded, submissions

EX = "exercise1"


@pytest.mark.parametrize("key", ["exercise1.py", "exercise1_loops.py"])
@pytest.mark.parametrize("seed", [None, 7, 20261122])
def test_keys_score_full_marks(key, seed):
    assert_full_marks(graded(EX, REPO / "solutions" / key, seed))


def test_stub_scores_zero():
    assert_stub_scores_zero(EX)


@pytest.mark.parametrize("path", submissions(EX, "good"), ids=lambda p: p.stem)
def test_correct_styles_score_full_marks(path):
    assert_full_marks(graded(EX, path))


@pytest.mark.parametrize("path", submissions(EX, "bad"), ids=lambda p: p.stem)
def test_bug_is_caught_and_named(path):
    assert_bug_caught(EX, path)


def test_every_check_is_failed_by_some_bug():
    assert_every_check_is_caught(EX)


def test_flipped_kernel_feedback_names_cross_correlation():
    report = graded(EX, REPO / "tests/submissions/exercise1/bad_flipped_kernel.py")
    check = next(c for c in report.checks if c.name == "values_plain")
    assert "true convolution" in check.hint and "cross-correlation" in check.hint


def test_wrong_values_come_with_a_heatmap_and_first_mismatch(tmp_path):
    # A border-only error (padding with ones instead of zeros) lights up the edge of the map.
    src = (REPO / "solutions/exercise1.py").read_text().replace("np.pad(x, ", "1 + 0 * np.pad(x, ", 1)
    assert src != (REPO / "solutions/exercise1.py").read_text()
    path = tmp_path / "ones_padding.py"
    path.write_text(src)
    report = graded(EX, path)
    check = next(c for c in report.checks if c.name == "values_padding")
    assert check.status == "failed"
    assert "First at index" in check.message and "Largest error" in check.message
    (heatmap,) = check.figures
    values = [row for row in heatmap.values]
    assert max(values[len(values) // 2]) > heatmap.tolerance or max(values[0]) > heatmap.tolerance
