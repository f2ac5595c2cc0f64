"""Exercise 1: a multi-channel conv2d in NumPy, judged against F.conv2d."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ..grading import references as ref
from ..grading.compare import as_array, as_float64, close, tolerance, where_different
from ..errors import CheckFailed, StudentRaised
from ..grading.registry import check
from ..grading.results import Grid, Maps


@dataclass(frozen=True)
class Case:
    """One hidden input: the arrays and the hyper-parameters as the student receives them."""

    x: np.ndarray  # (C_in, H, W)
    weight: np.ndarray  # (C_out, C_in, kH, kW)
    bias: np.ndarray | None  # (C_out,)
    stride: object = 1  # int, NumPy int, tuple or list
    padding: object = 0

    def call(self, ctx):
        """Call the student's conv2d on this case and return what came back, as it came."""
        kwargs = {} if self.bias is None else {"bias": self.bias}
        return ctx.call("conv2d", self.x, self.weight, stride=self.stride, padding=self.padding, **kwargs)

    def run(self, ctx) -> np.ndarray:
        """Call the student's conv2d on this case and return the result as an array.

        Nested lists of numbers become an array here: that the result must be an ndarray is
        returns_array's concept (and dtype's), not that of every check that looks at shapes or values.
        """
        return as_result(self.call(ctx))

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


def as_result(value) -> np.ndarray:
    """What conv2d returned, as an array (nested lists too): only returns_array and dtype demand an ndarray."""
    if isinstance(value, (list, tuple)):
        try:
            return np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):  # ragged or not numbers: say what came back
            pass
    return as_array(value, "conv2d")


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
                                "return (C_out, H_out, W_out), one feature map per filter.", diagnosis="channels_last")
    if len(got) != 3:
        return CheckFailed(msg, "Return a 3-D array (C_out, H_out, W_out): one 2-D feature map per output channel.",
                           diagnosis="output_not_3d")
    if got[0] != c_out:
        return CheckFailed(msg, f"The first axis must count the filters: weight.shape[0] = {c_out}.",
                           diagnosis="channel_axis_wrong")
    if (ph or pw) and got[1:] == (size(h, 0, kh, sh), size(w, 0, kw, sw)):
        return CheckFailed(msg, f"That is the size without padding: did you ignore padding? {formulas}.",
                           diagnosis="padding_ignored")
    if (sh > 1 or sw > 1) and got[1:] == (size(h, ph, kh, 1), size(w, pw, kw, 1)):
        return CheckFailed(msg, f"That is the size for stride 1: did you ignore stride? {formulas}.",
                           diagnosis="stride_ignored")
    if got[1:] == (-(-(h + 2 * ph - kh) // sh) + 1, -(-(w + 2 * pw - kw) // sw) + 1):
        return CheckFailed(msg, f"You rounded up; the output size rounds down (floor division). {formulas}.",
                           diagnosis="size_rounded_up")
    if all(abs(g - e) == 1 or g == e for g, e in zip(got[1:], want[1:])):
        return CheckFailed(msg, f"Off by one in the output size: the formula ends in + 1 "
                                f"(the first window position counts too). {formulas}.",
                           diagnosis="size_off_by_one")
    return CheckFailed(msg, f"The output size follows {formulas}.")


def value_feedback(case: Case, out: np.ndarray) -> CheckFailed:
    """Compare a wrong output with known-wrong variants and name the misconception (with pictures of it)."""
    c_out, _, kh, kw = case.weight.shape
    msg = f"For {case.describe()} your values differ from F.conv2d."
    want = case.expected()
    variants = [
        (dict(weight=case.weight[:, :, ::-1, ::-1].copy()), "kernel_flipped",
         "Your output equals a true convolution: you flipped the kernel. PyTorch's Conv2d computes "
         "cross-correlation: slide the kernel over the input as it is, without flipping it."),
        (dict(weight=case.weight.transpose(0, 1, 3, 2).copy()) if kh == kw else None, "kernel_transposed",
         "Your output matches the kernel transposed: you index weight[..., j, i] where you mean weight[..., i, j] "
         "(rows of the kernel go along H, columns along W)."),
        (dict(bias=None) if case.bias is not None else None, "bias_ignored",
         "Your output matches the result without bias: add bias[c] to every value of output channel c."),
    ]
    for change, diagnosis, hint in variants:
        if change is not None and close(out, case.expected(**change), case.x.dtype):
            return CheckFailed(msg, hint, (output_maps(out, want, diagnosis),), diagnosis=diagnosis)
    (ph, pw) = ref.pair(case.padding)
    if ph or pw:  # padding with something other than zeros: edge copies are the classic slip
        padded = np.pad(case.x, ((0, 0), (ph, ph), (pw, pw)), mode="edge")
        if close(out, ref.conv2d(padded, case.weight, case.bias, case.stride, 0), case.x.dtype):
            return CheckFailed(msg, "Your output matches padding with copies of the edge pixels. "
                                    "Pad with zeros (np.pad's default mode='constant').",
                               (output_maps(out, want, "edge_padding"),), diagnosis="edge_padding")
    text, figures = where_different(out, want, case.x.dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(as_float64(out) - want)
    hint, diagnosis = ("Work one output value out by hand: the sum over input channels and kernel positions of x "
                       "times weight."), ""
    if diff.ndim == 3 and diff.shape[1] > 2 and diff.shape[2] > 2 and diff[:, 1:-1, 1:-1].max() <= 1e-6 * max(1, diff.max()):
        hint = "Only the border of the map is wrong: look at how you pad (zeros, p on each side) and where your windows start."
        diagnosis = "border_wrong"
    # The heat map stays first: the text report draws it; the Maps are for the HTML report.
    return CheckFailed(f"{msg} {text}", hint, (*figures, output_maps(out, want, diagnosis)), diagnosis=diagnosis)


# What each value diagnosis looks like in the pictures: the caption under yours / expected / difference.
CAPTIONS = {
    "kernel_flipped": "A mirrored pattern: the kernel is flipped (a true convolution, not cross-correlation).",
    "kernel_transposed": "A transposed pattern: the kernel's rows and columns are swapped.",
    "bias_ignored": "A constant offset in each channel: the bias is missing.",
    "edge_padding": "A lit border: padding with copies of the edge pixels, not zeros.",
    "border_wrong": "A lit border: padding (or where the windows start).",
    "": "Where your output differs from F.conv2d.",
}
MAX_ROWS, MAX_SIDE = 4, 32  # pictures stay small: the HTML report of one exercise must stay well under 1 MB


def as_grid(values: np.ndarray) -> Grid:
    """A 2-D map as plain floats, every side at most MAX_SIDE (strided when larger); infinities clipped."""
    step = max(1, -(-max(values.shape) // MAX_SIDE))
    with np.errstate(invalid="ignore", over="ignore"):
        small = np.clip(as_float64(values)[::step, ::step], -1e300, 1e300)  # NaN stays NaN: drawn as not a number
    return tuple(tuple(float(v) for v in row) for row in small)


def difference_maps(title: str, yours: np.ndarray, expected: np.ndarray, caption: str) -> Maps:
    """Yours, expected and their difference for the (at most 4) channels of a (C, H, W) output that differ most."""
    with np.errstate(invalid="ignore", over="ignore"):
        diff = as_float64(yours) - as_float64(expected)
    worst = np.nan_to_num(np.abs(diff), nan=np.inf).reshape(len(diff), -1).max(axis=1)
    channels = sorted(int(c) for c in np.argsort(-worst, kind="stable")[:MAX_ROWS])
    rows = tuple((f"channel {c}", (as_grid(yours[c]), as_grid(expected[c]), as_grid(diff[c]))) for c in channels)
    return Maps(title, ("yours", "expected", "difference"), rows, caption, diverging=("difference",))


def output_maps(out: np.ndarray, want: np.ndarray, diagnosis: str) -> Maps:
    """The pictures of a wrong conv2d output, captioned with the diagnosis in words."""
    return difference_maps("your output against F.conv2d, per output channel", out, want, CAPTIONS[diagnosis])


def expect_same(case: Case, ctx) -> np.ndarray:
    """Run a case and fail with named feedback unless shape and values match F.conv2d."""
    out = case.run(ctx)
    want = case.expected()
    if out.shape != want.shape:
        raise shape_feedback(case, out.shape)
    if not ctx.matches(out, want, case.x.dtype, device="cpu"):  # NumPy: on the CPU whatever --device says
        raise value_feedback(case, out)
    return out


def bias_feedback(case: Case, with_bias: np.ndarray, without: np.ndarray) -> CheckFailed | None:
    """Judge output(bias) - output(no bias) against bias[c] on every position of channel c; None if right.

    Only what the bias adds is judged, so a mistake in the convolution itself (a flipped kernel, a wrong
    size) cannot decide this check. Channels-last output is read along its last axis: the layout is the
    shape checks' concern.
    """
    b = case.bias
    what = f"For {case.describe()}"
    if with_bias.shape != without.shape:
        return CheckFailed(f"{what} your output has shape {with_bias.shape} with the bias and {without.shape} "
                           "without it.", "The bias changes values, never the shape: add bias[c] to every value "
                                          "of output channel c.", diagnosis="bias_changes_shape")
    with np.errstate(invalid="ignore", over="ignore"):
        added = as_float64(with_bias) - as_float64(without)
    c_out = len(b)
    if added.ndim != 3 or c_out not in (added.shape[0], added.shape[-1]):
        return CheckFailed(f"{what} your output has shape {added.shape}: no axis holds the {c_out} output channels.",
                           "Add bias[c] to every value of output channel c.")
    per_channel = b[:, None, None] if added.shape[0] == c_out else b[None, None, :]
    want = np.broadcast_to(per_channel, added.shape)
    scale = max(np.nan_to_num(np.abs(as_float64(out)), posinf=0.0).max(initial=0) for out in (with_bias, without))
    tol = tolerance(case.x.dtype, float(scale))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if np.all(np.abs(added - want) <= tol):
            return None
        if np.all(np.abs(added) <= tol):
            return CheckFailed(f"{what} your output is the same with the bias as without it.",
                               "Your output matches the result without bias: add bias[c] to every value of "
                               "output channel c.", diagnosis="bias_ignored")
        times = added / want
        k = float(np.round(np.median(times)))
        if k >= 2 and np.all(np.abs(added - k * want) <= tol):
            return CheckFailed(f"{what} the bias adds {k:g} × bias[c] to channel c, not bias[c].",
                               f"You add the bias {k:g} times: inside a loop (over input channels or kernel "
                               "positions). Add it once per output value, after the sum.",
                               diagnosis="bias_added_in_loop")
    return CheckFailed(f"{what} your output with the bias minus your output without it should be bias[c] at every "
                       f"position of channel c (bias = {np.round(b, 4).tolist()}); it is not.",
                       "Add bias[c] to every value of output channel c (out[c] += bias[c], or out + "
                       "bias[:, None, None]): one value per output channel, the same at every position.")


def expect_some_convolution(ctx, case: Case, out: np.ndarray, what: str) -> None:
    """A property of the computation needs a computation: the output must change when the weights do.

    Any attempt at a convolution passes, right or wrong (its values are the value checks' concern); a
    function that returns its input, or zeros, has no result whose dtype or side effects say anything.
    """
    other = replace(case, weight=np.ascontiguousarray(case.weight[::-1, :, ::-1]) + 1).run(ctx)
    if _same(out, other, case.x.dtype):
        raise CheckFailed(f"For {case.describe()} your output stays the same when the weights change: conv2d does "
                          f"not compute with them yet, so {what} cannot be judged.",
                          "Write the convolution first (the value checks say how close it is): the checks of NumPy "
                          "integers, the dtype, the inputs left as they were and NumPy alone need a result to look at, "
                          "and then look only at that.", diagnosis="weights_unused")


def _same(a: np.ndarray, b: np.ndarray, dtype) -> bool:
    """Two outputs of the student's own agree: same shape, values within the tolerance of `dtype` (NaN equals NaN)."""
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore", over="ignore"):
        a, b = as_float64(a), as_float64(b)
        scale = float(np.nan_to_num(np.abs(b), posinf=0.0).max(initial=0))
        return bool(np.allclose(a, b, rtol=0, atol=tolerance(dtype, scale), equal_nan=True))


# --- the ValueErrors: each judged on the student's own refusals, with inputs NumPy does not refuse by itself ---
def own_refusal(raised) -> bool:
    """Whether a ValueError came from a `raise` in the student's code rather than from NumPy or Python breaking.

    `where` holds the last line of the student's code the exception passed through: a `raise` there is a
    check of theirs; anything else (`C, H, W = x.shape`, `np.pad(...)`, a slice with step 0) is NumPy or
    Python giving up by accident, which other inputs with the same problem get past.
    """
    line = raised.where.partition(": ")[2]
    return not raised.where or re.search(r"\braise\b", line) is not None


def expect_refused(ctx, why: str, *args, missing: str = "", **kwargs) -> None:
    """conv2d must refuse these arguments with a ValueError of its own; `missing` names the absent check."""
    raised = ctx.raises("conv2d", *args, **kwargs)
    if raised is None:
        raise CheckFailed(f"conv2d returned normally for {why}; expected a ValueError.",
                          "Check the arguments at the top of conv2d and raise ValueError with a message "
                          "that says what is wrong.", diagnosis=missing)
    if not raised.is_a("ValueError"):
        raise CheckFailed(f"conv2d raised {raised.type} for {why}; expected ValueError ({raised.message[:200]}).",
                          "Test the condition yourself and `raise ValueError(...)` before the computation "
                          "fails on its own.", diagnosis="not_value_error")
    if not own_refusal(raised):
        raise CheckFailed(f"conv2d raised ValueError for {why}, but not with a check of its own: the computation "
                          f"broke at {raised.where} ({raised.message[:200]}).",
                          "That error comes by accident, from where NumPy or Python gave up, and other inputs with "
                          "the same problem get through. Test the condition at the top of conv2d and "
                          "`raise ValueError(...)` with a message that says what is wrong.",
                          diagnosis=missing)  # a refusal by accident: the same check is missing


def expect_runs(ctx, why: str, *args, **kwargs) -> None:
    """conv2d must return for an ordinary valid input: refusing it fails the check; a crash ends it as an error."""
    try:
        ctx.call("conv2d", *args, **kwargs)
    except StudentRaised as e:
        if e.info.is_a("ValueError") and own_refusal(e.info):
            raise CheckFailed(f"conv2d refused {why} with ValueError({e.info.message[:200]!r}), but that input is "
                              "valid.", "Refuse only what the contract names.",
                              diagnosis="valid_input_refused") from None
        raise


def expect_accepted(ctx, why: str, hint: str, *args, **kwargs) -> None:
    """conv2d must not refuse these valid arguments with a ValueError of its own; its result is judged elsewhere."""
    raised = ctx.raises("conv2d", *args, **kwargs)
    if raised is not None and raised.is_a("ValueError") and own_refusal(raised):
        raise CheckFailed(f"conv2d refused {why} with ValueError({raised.message[:200]!r}), but that input is valid.",
                          hint, diagnosis="exact_fit_refused")


def takes_pairs(ctx) -> bool:
    """Whether conv2d takes (H, W) pairs for stride and padding at all: values_pairs judges pairs, no other check."""
    return ctx.raises("conv2d", np.ones((1, 5, 5)), np.ones((1, 1, 3, 3)), stride=(1, 1), padding=(1, 1)) is None


# ---------------------------------------------------------------------------------------------
@check(points=1, title="returns a NumPy array of shape (C_out, H_out, W_out)")
def returns_array(ctx):
    case = make_case(ctx.rng, c_in=3, c_out=8, size=(10, 12))  # every axis a different length
    out = as_array(case.call(ctx), "conv2d")
    if out.shape != (8, 8, 10):
        raise shape_feedback(case, out.shape)


@check(points=2, title="gets the output shape right over a grid of sizes, strides and paddings")
def shapes_grid(ctx):
    grid = [(1, 1, (5, 5), (1, 1), 1, 0), (2, 5, (9, 7), (3, 3), 2, 1), (4, 3, (12, 12), (5, 5), 3, 2),
            (3, 2, (6, 10), (2, 3), (1, 2), (0, 1)), (1, 4, (8, 8), (4, 4), 4, 0), (3, 6, (11, 6), (3, 1), 2, (2, 0))]
    pairs = takes_pairs(ctx)  # code that refuses pairs loses values_pairs' points, not these
    for c_in, c_out, size, kernel, stride, padding in grid:
        case = make_case(ctx.rng, c_in, c_out, size, kernel, stride, padding)
        if not pairs and (isinstance(stride, tuple) or isinstance(padding, tuple)):
            continue
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
    # Judged against the student's own output for the same numbers as Python ints: whether the values are
    # right is the value checks' concern; here np.int64(2) must simply act as 2 does.
    pairs = takes_pairs(ctx)
    for stride, padding in [(np.int64(2), np.int32(1)), ((np.int64(1), np.int64(2)), (np.int16(2), np.int8(0)))]:
        if not pairs and isinstance(stride, tuple):
            continue
        case = make_case(ctx.rng, 2, 3, (8, 9), (3, 3), stride, padding)
        plain = replace(case, stride=_python_ints(stride), padding=_python_ints(padding))
        want = plain.run(ctx)
        if not isinstance(stride, tuple):
            expect_some_convolution(ctx, plain, want, "whether NumPy integers act as ints")
        with ctx.hint_on_raise("NumPy integers such as np.int64(2) are not `int`: accept them with operator.index(v) or "
                               "isinstance(v, numbers.Integral) rather than isinstance(v, int)."):
            got = case.run(ctx)
        if not _same(got, want, case.x.dtype):
            raise CheckFailed(f"For {case.describe()} your output differs from your output for the same numbers as "
                              f"Python ints (stride={plain.stride!r}, padding={plain.padding!r})"
                              + (f": shape {got.shape}, not {want.shape}." if got.shape != want.shape else "."),
                              "np.int64(2) must act exactly as 2 does: turn stride and padding into ints first, "
                              "with operator.index(v) or int(v).", diagnosis="numpy_integers_differ")


def _python_ints(value):
    return tuple(int(v) for v in value) if isinstance(value, tuple) else int(value)


@check(points=1, title="adds one bias value per output channel")
def bias(ctx):
    for stride, padding in [(1, 1), (2, 0)]:
        case = make_case(ctx.rng, 3, 5, (8, 8), (3, 3), stride, padding, bias=True)
        failed = bias_feedback(case, case.run(ctx), replace(case, bias=None).run(ctx))
        if failed:
            raise failed


@check(points=1, title="keeps float32 as float32 and float64 as float64")
def dtype(ctx):
    for dt in (np.float32, np.float64):
        case = make_case(ctx.rng, 3, 4, (8, 8), (3, 3), 1, 1, bias=True, dtype=dt)
        out = as_array(case.call(ctx), "conv2d")  # only an ndarray has a dtype to keep
        if dt == np.float32:
            expect_some_convolution(ctx, case, out, "the dtype it keeps")
        if out.dtype != dt:
            raise CheckFailed(f"For {np.dtype(dt).name} inputs your output is {out.dtype}; expected {np.dtype(dt).name}.",
                              "np.zeros makes float64 by default: pass dtype=x.dtype (or np.result_type(x, weight)).",
                              diagnosis="dtype_not_kept")


@check(points=1, title="raises ValueError when x is not 3-D or weight is not 4-D")
def errors_rank(ctx):
    case = make_case(ctx.rng, 2, 3, (6, 6))
    expect_runs(ctx, f"x {case.x.shape} with weight {case.weight.shape}", case.x, case.weight)
    # Each keeps x.shape[0] == weight.shape[1], so a channel check cannot refuse it in the rank check's place.
    expect_refused(ctx, "a 2-D x of shape (2, 6)", case.x[:, 0], case.weight, missing="rank_check_missing")
    expect_refused(ctx, "a batch of two images, x of shape (2, 2, 6, 6)", np.stack([case.x, case.x]), case.weight,
                   missing="rank_check_missing")
    # (C_out, C_in, k): `patch * weight[o]` broadcasts it without complaint.
    expect_refused(ctx, "a 3-D weight of shape (3, 2, 3)", case.x, case.weight[:, :, 0], missing="rank_check_missing")


@check(points=1, title="raises ValueError for a channel mismatch or a bias of the wrong length")
def errors_mismatch(ctx):
    case = make_case(ctx.rng, 3, 4, (6, 6), bias=True)
    expect_runs(ctx, "a bias of length 4 for 4 filters", case.x, case.weight, bias=case.bias)
    # Each of these slips through NumPy: size-1 axes broadcast, loops index only what they need.
    expect_refused(ctx, "x with 3 channels and weight expecting 1", case.x, case.weight[:, :1],
                   missing="channel_check_missing")
    expect_refused(ctx, "x with 1 channel and weight expecting 3", case.x[:1], case.weight,
                   missing="channel_check_missing")
    expect_refused(ctx, "4 filters and a bias of length 1", case.x, case.weight, bias=case.bias[:1],
                   missing="bias_length_check_missing")
    expect_refused(ctx, "4 filters and a bias of length 5", case.x, case.weight,
                   bias=np.append(case.bias, ctx.rng.standard_normal()), missing="bias_length_check_missing")
    expect_refused(ctx, "4 filters and a bias of length 3", case.x, case.weight, bias=case.bias[:3],
                   missing="bias_length_check_missing")


@check(points=1, title="raises ValueError for stride < 1, padding < 0 or a kernel larger than the padded input")
def errors_hyper(ctx):
    rng, pairs = ctx.rng, takes_pairs(ctx)
    fits = ("A kernel exactly as large as the padded input is valid: it fits once, giving a 1x1 map. "
            "Refuse only a kernel larger than the padded input.")
    w = lambda kh, kw: rng.standard_normal((3, 2, kh, kw))  # noqa: E731
    x = rng.standard_normal((2, 5, 8))
    expect_runs(ctx, "x (2, 5, 8) with a 3x3 kernel", x, w(3, 3))
    # At the edge only a refusal of the student's own counts: a crash there (NumPy's "negative dimensions"
    # when padding is ignored) is the computation's mistake, named by the value checks.
    x = rng.standard_normal((2, 4, 4))
    expect_accepted(ctx, "a 6x6 kernel on a 4x4 input with padding=1 (6x6 once padded)", fits, x, w(6, 6), padding=1)
    if pairs:
        x = rng.standard_normal((2, 3, 5))
        expect_accepted(ctx, "a 7x7 kernel on a 3x5 input with padding=(2, 1) (7x7 once padded)", fits,
                        x, w(7, 7), padding=(2, 1))
    # Inputs NumPy lets through: a negative step slices backwards, a kernel one larger than the padded input
    # gives loops an empty map. The kernels are square or too large either way round, so a kernel read as
    # (kW, kH) cannot decide this check.
    x = rng.standard_normal((2, 5, 8))
    expect_refused(ctx, "stride=0", x, w(3, 3), stride=0, missing="stride_check_missing")
    expect_refused(ctx, "stride=-1", x, w(3, 3), stride=-1, missing="stride_check_missing")
    expect_refused(ctx, "padding=-1", x, w(3, 3), padding=-1, missing="padding_check_missing")
    expect_refused(ctx, "a 6x8 kernel on a 5x8 input without padding (too tall, not too wide)", x, w(6, 8),
                   missing="kernel_size_check_missing")
    expect_refused(ctx, "a 5x9 kernel on a 5x8 input without padding (too wide, not too tall)", x, w(5, 9),
                   missing="kernel_size_check_missing")
    expect_refused(ctx, "an 8x8 kernel on a 5x8 input with padding=1 (7x10 once padded)", x, w(8, 8), padding=1,
                   missing="kernel_size_check_missing")
    if pairs:
        expect_refused(ctx, "stride=(0, 1)", x, w(3, 3), stride=(0, 1), missing="stride_check_missing")
        expect_refused(ctx, "stride=(1, 0)", x, w(3, 3), stride=(1, 0), missing="stride_check_missing")
        expect_refused(ctx, "stride=(1, -1) with a kernel as wide as the input", x, w(3, 8), stride=(1, -1),
                       missing="stride_check_missing")
        expect_refused(ctx, "padding=(-1, 0)", x, w(3, 3), padding=(-1, 0), missing="padding_check_missing")
        expect_refused(ctx, "padding=(0, -1)", x, w(3, 3), padding=(0, -1), missing="padding_check_missing")
        expect_refused(ctx, "an 8x8 kernel on a 5x8 input with padding=(1, 2) (7x12 once padded)", x, w(8, 8),
                       padding=(1, 2), missing="kernel_size_check_missing")
        expect_refused(ctx, "a 9x11 kernel on a 5x8 input with padding=(2, 1) (9x10 once padded)", x, w(9, 11),
                       padding=(2, 1), missing="kernel_size_check_missing")


@check(points=1, title="leaves x, weight and bias unmodified")
def inputs_unchanged(ctx):
    case = make_case(ctx.rng, 3, 4, (7, 7), (3, 3), 2, 1, bias=True)
    out, args, _ = ctx.call_echo("conv2d", case.x, case.weight, case.bias, 2, 1)  # its values: the value checks'
    expect_some_convolution(ctx, case, as_result(out), "what it does to its inputs")
    for name, before, after in zip(("x", "weight", "bias"), (case.x, case.weight, case.bias), args):
        if not (isinstance(after, np.ndarray) and after.shape == before.shape and np.array_equal(after, before)):
            raise CheckFailed(f"conv2d changed its input {name} in place; the caller still needs it unchanged.",
                              "Work on copies (np.pad returns a new array; `x = x - m` makes a new one, `x -= m` does not).",
                              diagnosis="input_modified")


@check(points=1, title="computes with NumPy alone")
def numpy_only(ctx):
    # Imports of torch and friends are refused before the code runs; here the NumPy code must also compute.
    case = make_case(ctx.rng, 3, 8, (6, 6), (3, 3), 1, 1, bias=True)
    expect_some_convolution(ctx, case, case.run(ctx), "whether it computes with NumPy alone")
