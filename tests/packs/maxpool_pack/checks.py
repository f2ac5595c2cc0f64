"""Checks of exercise 6 (max pooling): shapes, values against F.max_pool2d, and the refusal."""

from __future__ import annotations

import numpy as np

from grader.grading.compare import describe
from grader.errors import CheckFailed
from grader.grading.registry import check


def _reference(x: np.ndarray, k: int, s: int) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    return F.max_pool2d(torch.from_numpy(x)[None], k, s)[0].numpy()  # (C, H_out, W_out)


def _cases(rng) -> list[tuple[np.ndarray, int, int]]:
    return [(rng.standard_normal((c, h, w)), k, s) for c, h, w, k, s in
            [(2, 8, 8, 2, 2), (3, 9, 7, 3, 2), (1, 6, 10, 2, 1), (4, 5, 5, 5, 1)]]


@check(points=1, title="output shape (C, (H - k) // s + 1, (W - k) // s + 1)")
def output_shape(ctx):
    for x, k, s in _cases(ctx.rng):
        got = ctx.call("max_pool2d", x, k, s)
        want = _reference(x, k, s).shape
        if not isinstance(got, np.ndarray) or got.shape != want:
            raise CheckFailed(f"max_pool2d(x {x.shape}, {k}, {s}) returned {describe(got)}; expected shape {want}.",
                              "Each output side is (side - kernel) // stride + 1.")


@check(points=2, title="matches F.max_pool2d")
def values(ctx):
    for x, k, s in _cases(ctx.rng):
        got = ctx.call("max_pool2d", x, k, s)
        want = _reference(x, k, s)
        if not isinstance(got, np.ndarray) or got.shape != want.shape:
            continue  # the shape is output_shape's business
        if not np.allclose(got, want):
            hint = ("Your output is the minimum of each window, not the maximum."
                    if np.allclose(got, -_reference(-x, k, s)) else "Take the largest value of each window.")
            raise CheckFailed(f"For x {x.shape}, kernel {k}, stride {s} your values differ from F.max_pool2d.", hint)


@check(points=1, title="raises ValueError for a kernel larger than the input")
def errors(ctx):
    ctx.expect_value_error("max_pool2d", "a 7-wide kernel on a 4x9 input", np.zeros((1, 4, 9)), 7, 1)
