"""Exercise 1's own tests: the loop key, and feedback that names each mistake."""

import pytest

from grader.grading.results import Heatmap, Maps
from tests.checks.submission_suite import assert_full_marks
from tests.conftest import REPO, graded

EX = "exercise1"


# The key, the stub, the correct styles and the bugs are graded by tests/checks/test_shared.py for every
# exercise; this second key (a loop version for teaching) is exercise 1's own.
@pytest.mark.parametrize("seed", [None, 7, 20261122])
def test_the_loop_key_scores_full_marks(seed):
    assert_full_marks(graded(EX, REPO / "solutions" / "exercise1_loops.py", seed))


def test_flipped_kernel_feedback_names_cross_correlation():
    report = graded(EX, REPO / "tests/submissions/exercise1/bad_flipped_kernel.py")
    check = next(c for c in report.checks if c.name == "values_plain")
    assert "true convolution" in check.hint and "cross-correlation" in check.hint


def test_flipped_kernel_keeps_every_point_but_the_values():
    report = graded(EX, REPO / "tests/submissions/exercise1/bad_flipped_kernel.py")
    assert report.score == report.max_score - 8  # the four value checks, 2 points each


def test_a_crash_from_ignored_padding_is_not_called_a_refusal_of_the_kernel():
    # NumPy's "negative dimensions" on the exact-fit kernel is the padding mistake, named by the shape checks.
    report = graded(EX, REPO / "tests/submissions/exercise1/bad_no_padding_loops.py")
    hyper = next(c for c in report.checks if c.name == "errors_hyper")
    assert hyper.passed
    assert not any("as large as the padded input" in f"{c.message} {c.hint}" for c in report.checks)


def test_a_valueerror_numpy_raises_by_accident_is_not_a_refusal(tmp_path):
    key = (REPO / "solutions/exercise1.py").read_text()
    check = ('    if x.ndim != 3:\n'
             '        raise ValueError(f"x must be 3-D with shape (C_in, H, W), got shape {x.shape}")\n')
    assert check in key
    path = tmp_path / "no_rank_check.py"
    path.write_text(key.replace(check, ""))  # `c_in, height, width = x.shape` then refuses by accident
    rank = next(c for c in graded(EX, path).checks if c.name == "errors_rank")
    assert rank.status == "failed" and "not with a check of its own" in rank.message
    assert "c_in, height, width = x.shape" in rank.message


def test_bias_added_inside_the_channel_loop_is_named(tmp_path):
    loops = (REPO / "tests/submissions/exercise1/good_loops.py").read_text()
    once = "                if bias is not None:\n                    total += bias[o]\n"
    inside = "                    total += np.sum(patch * weight[o, c])\n"
    assert once in loops and inside in loops
    path = tmp_path / "bias_per_channel.py"
    path.write_text(loops.replace(once, "").replace(inside, inside + "                    if bias is not None:\n"
                                                                     "                        total += bias[o]\n"))
    report = graded(EX, path)
    assert {c.name for c in report.checks if not c.passed} == {"bias"}
    check = next(c for c in report.checks if c.name == "bias")
    assert "3 times" in check.hint


def test_code_that_computes_nothing_earns_no_property_points(tmp_path):
    # Dtype, inputs, NumPy integers and NumPy alone judge a computation's properties, not its values; returning
    # x keeps its dtype and its inputs, but there is no computation to credit.
    path = tmp_path / "returns_x.py"
    path.write_text("def conv2d(x, weight, bias=None, stride=1, padding=0):\n    return x\n")
    report = graded(EX, path)
    assert report.score == 0
    gated = [c for c in report.checks if c.name in ("numpy_integers", "dtype", "inputs_unchanged", "numpy_only")]
    assert all("stays the same when the weights change" in c.message for c in gated)
    assert len({c.hint for c in gated}) == 1  # one thing to fix, told once


def test_border_only_error_gets_the_padding_hint_and_a_lit_border(tmp_path):
    key = (REPO / "solutions/exercise1.py").read_text()
    pad = "padded = np.pad(x, ((0, 0), (p_h, p_h), (p_w, p_w)))"
    assert pad in key
    path = tmp_path / "ones_padding.py"
    path.write_text(key.replace(pad, pad[:-1] + ", constant_values=1)"))  # pads with ones, not zeros
    check = next(c for c in graded(EX, path).checks if c.name == "values_padding")
    assert check.status == "failed"
    assert "First at index" in check.message and "Largest error" in check.message
    assert "Only the border" in check.hint and check.diagnosis == "border_wrong"
    heatmap, maps = check.figures  # the heat map for the text report, the maps for the HTML one
    assert isinstance(heatmap, Heatmap) and isinstance(maps, Maps)
    assert maps.caption.startswith("A lit border")
    rows = heatmap.values
    assert all(v <= heatmap.tolerance for row in rows[1:-1] for v in row[1:-1])  # the inside is right
    assert max(max(rows[0]), max(rows[-1])) > heatmap.tolerance  # the border lights up


def test_a_flipped_kernel_is_pictured_yours_expected_and_the_difference():
    report = graded(EX, REPO / "tests/submissions/exercise1/bad_flipped_kernel.py")
    check = next(c for c in report.checks if c.name == "values_plain")
    assert check.diagnosis == "kernel_flipped"
    (maps,) = check.figures
    assert isinstance(maps, Maps)
    assert maps.columns == ("yours", "expected", "difference") and maps.diverging == ("difference",)
    assert 1 <= len(maps.rows) <= 4 and "flipped" in maps.caption
    for label, grids in maps.rows:
        assert label.startswith("channel ") and len(grids) == 3
        yours, expected, difference = grids
        assert len(yours) == len(expected) == len(difference) == 5  # 7x7 input, 3x3 kernel: a 5x5 map
        assert all(len(row) == 5 for grid in grids for row in grid)
        assert all(abs(y - e - d) < 1e-9 for ry, re, rd in zip(yours, expected, difference)
                   for y, e, d in zip(ry, re, rd))
        assert max(abs(v) for row in difference for v in row) > 1e-3


def test_maps_of_a_large_output_are_shrunk_to_at_most_32_a_side():
    import numpy as np

    from grader.checks.exercise1 import difference_maps

    rng = np.random.default_rng(0)
    yours, expected = rng.standard_normal((6, 70, 40)), rng.standard_normal((6, 70, 40))
    yours[5] += 100  # the channel that differs most is among those drawn
    maps = difference_maps("t", yours, expected, "c")
    assert len(maps.rows) == 4 and "channel 5" in [label for label, _ in maps.rows]
    for _, grids in maps.rows:
        assert all(len(grid) <= 32 and all(len(row) <= 32 for row in grid) for grid in grids)
