"""Exercise 1: a multi-channel conv2d in NumPy, judged against F.conv2d."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import references as ref
from ..compare import as_array, as_float64, close, where_different
from ..errors import CheckFailed
from ..registry import check


@dataclass(frozen=True)
class Case:
    """One hidden input: the arrays and the hyper-parameters as the student receives them."""

    x: np.ndarray  # (C_in, H, W)
    weight: np.ndarray  # (C_out, C_in, kH, kW)
    bias: np.ndarray | None  # (C_out,)
    stride: object = 1  # int, NumPy int, tuple or list
    padding: object = 0

    def run(self, ctx):
        """Call the student's conv2d on this case and return the result as an array."""
        kwargs = {} if self.bias is None else {"bias": self.bias}
        out = ctx.call("conv2d", self.x, self.weight, stride=self.stride, padding=self.padding, **kwargs)
        return as_array(out, "conv2d")

    def expected(self, **change) -> np.ndarray:
        """The F.conv2d reference, optionally for a changed case (a known-wrong variant)."""
        args = {"x": self.x, "weight": self.weight, "bias": self.bias, "stride": self.stride, "padding": self.padding}
        args.update(change)
        return ref.conv2d(**args)

    def describe(self) -> str:
        c_out, c_in, kh, kw = self.weight.shape
        bias = "with bias" if self.bias is not None else "no bias"
        return (f"x {self.x.shape}, weight ({c_out}, {c_in}, {kh}, {kw}), {bias}, "
                f"stride={self.stride!r}, padding={self.padding!r}")


def make_case(rng, c_in=3, c_out=4, size=(8, 8), kernel=(3, 3), stride=1, padding=0, bias=False, dtype=np.float64):
    """Random inputs of the given shape; values drawn from the check's own seeded stream."""
    x = rng.standard_normal((c_in, *size)).astype(dtype)
    weight = rng.standard_normal((c_out, c_in, *kernel)).astype(dtype)
    b = rng.standard_normal(c_out).astype(dtype) if bias else None
    return Case(x, weight, b, stride, padding)


def shape_feedback(case: Case, got: tuple) -> CheckFailed:
    """Name the likely reason a returned shape is wrong, with the formula and the student's numbers."""
    c_out, _, kh, kw = case.weight.shape
    (sh, sw), (ph, pw) = ref.pair(case.stride), ref.pair(case.padding)
    h, w = case.x.shape[1:]
    want = case.expected().shape
    size = lambda s, p, k, t: (s + 2 * p - k) // t + 1  # noqa: E731
    formulas = f"{ref.formula(h, kh, sh, ph, 'H')}; {ref.formula(w, kw, sw, pw, 'W')}"
    msg = f"For {case.describe()} your output has shape {got}; expected {want}."
    if got == (want[1], want[2], want[0]) and got != want:
        return CheckFailed(msg, "That is channels-last, (H_out, W_out, C_out). PyTorch's layout is channels-first: "
                                "return (C_out, H_out, W_out), one feature map per filter.")
    if len(got) != 3:
        return CheckFailed(msg, "Return a 3-D array (C_out, H_out, W_out): one 2-D feature map per output channel.")
    if got[0] != c_out:
        return CheckFailed(msg, f"The first axis must count the filters: weight.shape[0] = {c_out}.")
    if (ph or pw) and got[1:] == (size(h, 0, kh, sh), size(w, 0, kw, sw)):
        return CheckFailed(msg, f"That is the size without padding: did you ignore padding? {formulas}.")
    if (sh > 1 or sw > 1) and got[1:] == (size(h, ph, kh, 1), size(w, pw, kw, 1)):
        return CheckFailed(msg, f"That is the size for stride 1: did you ignore stride? {formulas}.")
    if got[1:] == (-(-(h + 2 * ph - kh) // sh) + 1, -(-(w + 2 * pw - kw) // sw) + 1):
        return CheckFailed(msg, f"You rounded up; the output size rounds down (floor division). {formulas}.")
    if all(abs(g - e) == 1 or g == e for g, e in zip(got[1:], want[1:])):
        return CheckFailed(msg, f"Off by one in the output size: the formula ends in + 1 "
                                f"(the first window position counts too). {formulas}.")
    return CheckFailed(msg, f"The output size follows {formulas}.")


def value_feedback(case: Case, out: np.ndarray) -> CheckFailed:
    """Compare a wrong output with known-wrong variants and name the misconception."""
    c_out, _, kh, kw = case.weight.shape
    msg = f"For {case.describe()} your values differ from F.conv2d."
    variants = [
        (dict(weight=case.weight[:, :, ::-1, ::-1].copy()),
         "Your output equals a true convolution: you flipped the kernel. PyTorch's Conv2d computes "
         "cross-correlation: slide the kernel over the input as it is, without flipping it."),
        (dict(weight=case.weight.transpose(0, 1, 3, 2).copy()) if kh == kw else None,
         "Your output matches the kernel transposed: you index weight[..., j, i] where you mean weight[..., i, j] "
         "(rows of the kernel go along H, columns along W)."),
        (dict(bias=None) if case.bias is not None else None,
         "Your output matches the result without bias: add bias[c] to every value of output channel c."),
    ]
    for change, hint in variants:
        if change is not None and close(out, case.expected(**change), case.x.dtype):
            return CheckFailed(msg, hint)
    (ph, pw) = ref.pair(case.padding)
    if ph or pw:  # padding with something other than zeros: edge copies are the classic slip
        padded = np.pad(case.x, ((0, 0), (ph, ph), (pw, pw)), mode="edge")
        if close(out, ref.conv2d(padded, case.weight, case.bias, case.stride, 0), case.x.dtype):
            return CheckFailed(msg, "Your output matches padding with copies of the edge pixels. "
                                    "Pad with zeros (np.pad's default mode='constant').")
    text, figures = where_different(out, case.expected(), case.x.dtype)
    diff = np.abs(as_float64(out) - case.expected())
    hint = "Work one output value out by hand: the sum over input channels and kernel positions of x times weight."
    if diff.ndim == 3 and diff.shape[1] > 2 and diff.shape[2] > 2 and diff[:, 1:-1, 1:-1].max() <= 1e-6 * max(1, diff.max()):
        hint = "Only the border of the map is wrong: look at how you pad (zeros, p on each side) and where your windows start."
    return CheckFailed(f"{msg} {text}", hint, figures)


def expect_same(case: Case, ctx) -> np.ndarray:
    """Run a case and fail with named feedback unless shape and values match F.conv2d."""
    out = case.run(ctx)
    want = case.expected()
    if out.shape != want.shape:
        raise shape_feedback(case, out.shape)
    if not ctx.matches(out, want, case.x.dtype, device="cpu"):  # NumPy: on the CPU whatever --device says
        raise value_feedback(case, out)
    return out


# ---------------------------------------------------------------------------------------------
@check(points=1, title="returns a NumPy array of shape (C_out, H_out, W_out)")
def returns_array(ctx):
    case = make_case(ctx.rng, c_in=3, c_out=8, size=(10, 12))  # every axis a different length
    out = case.run(ctx)
    if out.shape != (8, 8, 10):
        raise shape_feedback(case, out.shape)


@check(points=2, title="gets the output shape right over a grid of sizes, strides and paddings")
def shapes_grid(ctx):
    grid = [(1, 1, (5, 5), (1, 1), 1, 0), (2, 5, (9, 7), (3, 3), 2, 1), (4, 3, (12, 12), (5, 5), 3, 2),
            (3, 2, (6, 10), (2, 3), (1, 2), (0, 1)), (1, 4, (8, 8), (4, 4), 4, 0), (3, 6, (11, 6), (3, 1), 2, (2, 0))]
    for c_in, c_out, size, kernel, stride, padding in grid:
        case = make_case(ctx.rng, c_in, c_out, size, kernel, stride, padding)
        out = case.run(ctx)
        if out.shape != case.expected().shape:
            raise shape_feedback(case, out.shape)


@check(points=2, title="matches F.conv2d with stride 1 and no padding")
def values_plain(ctx):
    for c_in, c_out, size, kernel in [(3, 8, (7, 7), (3, 3)), (1, 1, (5, 6), (2, 2)), (4, 2, (9, 8), (5, 5))]:
        expect_same(make_case(ctx.rng, c_in, c_out, size, kernel), ctx)


@check(points=2, title="matches F.conv2d with zero padding")
def values_padding(ctx):
    for padding, kernel in [(1, (3, 3)), (2, (5, 5)), (1, (5, 5))]:
        expect_same(make_case(ctx.rng, 3, 4, (8, 8), kernel, 1, padding), ctx)


@check(points=2, title="matches F.conv2d with stride 2 and 3")
def values_stride(ctx):
    for stride, padding, size in [(2, 0, (9, 9)), (2, 1, (8, 8)), (3, 1, (10, 10))]:
        expect_same(make_case(ctx.rng, 2, 3, size, (3, 3), stride, padding), ctx)


@check(points=2, title="takes (H, W) pairs for stride and padding, and non-square kernels and inputs")
def values_pairs(ctx):
    for kernel, stride, padding, size in [((3, 5), (2, 1), (1, 2), (7, 11)), ((1, 3), [1, 2], [0, 1], (6, 9)),
                                          ((5, 2), 1, (2, 0), (10, 5))]:
        with ctx.hint_on_raise("stride and padding may each be an int or a pair (tuple or list) (along H, along W); "
                               "kernels may be non-square: read kH and kW from weight.shape separately.",
                               only=("TypeError", "ValueError", "IndexError")):
            expect_same(make_case(ctx.rng, 3, 2, size, kernel, stride, padding), ctx)


@check(points=1, title="takes NumPy integers as stride and padding")
def numpy_integers(ctx):
    for stride, padding in [(np.int64(2), np.int32(1)), ((np.int64(1), np.int64(2)), (np.int16(2), np.int8(0)))]:
        with ctx.hint_on_raise("NumPy integers such as np.int64(2) are not `int`: accept them with operator.index(v) or "
                               "isinstance(v, numbers.Integral) rather than isinstance(v, int)."):
            expect_same(make_case(ctx.rng, 2, 3, (8, 9), (3, 3), stride, padding), ctx)


@check(points=1, title="adds one bias value per output channel")
def bias(ctx):
    for stride, padding in [(1, 1), (2, 0)]:
        expect_same(make_case(ctx.rng, 3, 5, (8, 8), (3, 3), stride, padding, bias=True), ctx)


@check(points=1, title="keeps float32 as float32 and float64 as float64")
def dtype(ctx):
    for dt in (np.float32, np.float64):
        case = make_case(ctx.rng, 3, 4, (8, 8), (3, 3), 1, 1, bias=True, dtype=dt)
        out = expect_same(case, ctx)
        if out.dtype != dt:
            raise CheckFailed(f"For {np.dtype(dt).name} inputs your output is {out.dtype}; expected {np.dtype(dt).name}.",
                              "np.zeros makes float64 by default: pass dtype=x.dtype (or np.result_type(x, weight)).")


@check(points=1, title="raises ValueError when x is not 3-D or weight is not 4-D")
def errors_rank(ctx):
    case = make_case(ctx.rng, 2, 3, (6, 6))
    expect_same(case, ctx)  # a valid call must still work
    ctx.expect_value_error("conv2d", "a 2-D x of shape (6, 6)", case.x[0], case.weight)
    ctx.expect_value_error("conv2d", "a batched 4-D x of shape (1, 2, 6, 6)", case.x[None], case.weight)
    ctx.expect_value_error("conv2d", "a 3-D weight of shape (3, 2, 3)", case.x, case.weight[:, :, 0])


@check(points=1, title="raises ValueError for a channel mismatch or a bias of the wrong length")
def errors_mismatch(ctx):
    case = make_case(ctx.rng, 3, 4, (6, 6), bias=True)
    expect_same(case, ctx)
    ctx.expect_value_error("conv2d", "x with 3 channels and weight expecting 2", case.x, case.weight[:, :2])
    ctx.expect_value_error("conv2d", "4 filters and a bias of length 3", case.x, case.weight, bias=case.bias[:3])
    # A length-1 bias would broadcast silently: only an explicit shape test refuses it.
    ctx.expect_value_error("conv2d", "4 filters and a bias of length 1", case.x, case.weight, bias=case.bias[:1])


@check(points=1, title="raises ValueError for stride < 1, padding < 0 or a kernel larger than the padded input")
def errors_hyper(ctx):
    edge = make_case(ctx.rng, 2, 3, (3, 4), (5, 6), 1, 1)  # kernel exactly the padded size: a 1x1 output
    with ctx.hint_on_raise("A kernel exactly as large as the padded input is valid: it fits once, giving a 1x1 map. "
                           "Refuse only a kernel larger than the padded input.", only=("ValueError",)):
        expect_same(edge, ctx)
    case = make_case(ctx.rng, 2, 3, (6, 6))
    ctx.expect_value_error("conv2d", "stride=0", case.x, case.weight, stride=0)
    ctx.expect_value_error("conv2d", "stride=(1, 0)", case.x, case.weight, stride=(1, 0))
    # Slicing refuses a step of 0 by itself, but walks backwards with a negative one.
    ctx.expect_value_error("conv2d", "stride=-1", case.x, case.weight, stride=-1)
    ctx.expect_value_error("conv2d", "stride=(1, -2)", case.x, case.weight, stride=(1, -2))
    ctx.expect_value_error("conv2d", "padding=-1", case.x, case.weight, padding=-1)
    ctx.expect_value_error("conv2d", "a 7x7 kernel on a 6x6 input without padding", case.x,
                       ctx.rng.standard_normal((3, 2, 7, 7)))


@check(points=1, title="leaves x, weight and bias unmodified")
def inputs_unchanged(ctx):
    case = make_case(ctx.rng, 3, 4, (7, 7), (3, 3), 2, 1, bias=True)
    out, args, _ = ctx.call_echo("conv2d", case.x, case.weight, case.bias, 2, 1)
    if not ctx.matches(as_array(out, "conv2d"), case.expected(), case.x.dtype, device="cpu"):
        raise CheckFailed(f"For {case.describe()} the output is wrong, so this check cannot pass yet.",
                          "Fix the checks on values first.")
    for name, before, after in zip(("x", "weight", "bias"), (case.x, case.weight, case.bias), args):
        if not (isinstance(after, np.ndarray) and after.shape == before.shape and np.array_equal(after, before)):
            raise CheckFailed(f"conv2d changed its input {name} in place; the caller still needs it unchanged.",
                              "Work on copies (np.pad returns a new array; `x = x - m` makes a new one, `x -= m` does not).")


@check(points=1, title="computes with NumPy alone")
def numpy_only(ctx):
    # Imports of torch and friends are refused before the code runs; here it must also work.
    expect_same(make_case(ctx.rng, 3, 8, (6, 6), (3, 3), 1, 1, bias=True), ctx)
