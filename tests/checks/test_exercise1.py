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


def test_border_only_error_gets_the_padding_hint_and_a_lit_border(tmp_path):
    key = (REPO / "solutions/exercise1.py").read_text()
    pad = "padded = np.pad(x, ((0, 0), (p_h, p_h), (p_w, p_w)))"
    assert pad in key
    path = tmp_path / "ones_padding.py"
    path.write_text(key.replace(pad, pad[:-1] + ", constant_values=1)"))  # pads with ones, not zeros
    check = next(c for c in graded(EX, path).checks if c.name == "values_padding")
    assert check.status == "failed"
    assert "First at index" in check.message and "Largest error" in check.message
    assert "Only the border" in check.hint
    (heatmap,) = check.figures
    rows = heatmap.values
    assert all(v <= heatmap.tolerance for row in rows[1:-1] for v in row[1:-1])  # the inside is right
    assert max(max(rows[0]), max(rows[-1])) > heatmap.tolerance  # the border lights up
