"""Judging returned arrays: type and shape, closeness with dtype-aware tolerances, where they differ."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ..errors import CheckFailed
from .results import Heatmap
from ..sandbox.protocol import Opaque, TensorData


def describe(value) -> str:
    """A short name for what a student returned."""
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, TensorData):
        return f"a torch tensor of shape {tuple(value.array.shape)}"
    if isinstance(value, Opaque):
        return f"an object of type {value.type_name}"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def as_array(value, what: str) -> np.ndarray:
    """The value as an ndarray, or a CheckFailed that says what came back instead."""
    if isinstance(value, np.ndarray):
        return value
    hint = "Build the result with NumPy (np.zeros, np.einsum, ...) and return the array itself."
    if isinstance(value, TensorData):
        hint = "This exercise works in NumPy: return an np.ndarray, not a torch tensor."
    elif isinstance(value, (list, tuple)):
        hint = "Return an np.ndarray (wrap your nested list with np.array, or build the array directly)."
    elif value is None:
        hint = "Did you forget a `return` at the end of your function?"
    raise CheckFailed(f"{what} returned {describe(value)}; expected a NumPy array.", hint)


# How far a student's numbers may be from the float64 reference, per (device type, dtype of the work):
# |yours - reference| <= EPS * max(1, max|reference|) everywhere. The dtype is the one the work was done in
# (the inputs'), not the one the result is stored in. The figures below are for exercises 3 and 4 (3x3
# convolutions of fan-in 27 and 72, BatchNorm with random statistics, two convolutions in the residual block),
# over 200 seeds; tests/checks/test_tolerances.py measures them again on 20. Every wrong block the checks name
# is at least 3.9e-2 away (ReLU missing, in eval mode); most are 0.1 or more: the bugs are O(1), not rounding.
TOLERANCES: dict[tuple[str, str], float] = {
    # Unit roundoff 1.1e-16: float64 work lands within ~1e-13; 1e-9 still sees any wrong value.
    ("cpu", "float64"): 1e-9,
    ("cuda", "float64"): 1e-9,  # cuDNN and cuBLAS have no reduced-precision mode for float64
    # Unit roundoff 6e-8: the blocks measure about 1e-6 on the CPU; 1e-4 leaves 100x for other BLAS builds.
    ("cpu", "float32"): 1e-4,
    # cuDNN runs float32 convolutions in TF32 by default on Ampere and newer (torch.backends.cudnn.allow_tf32):
    # operands keep 10 mantissa bits (2^-11 = 4.9e-4 rounded, 2^-10 truncated), so each convolution output is
    # off by ~1e-3 of its own size; BatchNorm rescales values and errors alike. Emulated (operands truncated
    # to TF32, exact sums), right blocks measure at most 1.5e-3. 5e-3 is 3x that and 8x below the closest wrong
    # block. cuDNN's choice of algorithm (non-deterministic summation order, Winograd) moves float32 results by
    # ~1e-5 at most; float32 matmuls (Linear) are not TF32 by default, and are covered if a student turns it on.
    ("cuda", "float32"): 5e-3,
    # Apple's MPS kernels are not documented to keep full float32 precision: the CUDA bound (not measured here).
    ("mps", "float32"): 5e-3,
    # Half precision (10 mantissa bits, a rounded result after every layer): only if a student's code computes in it.
    ("cpu", "float16"): 1e-2,
    ("cuda", "float16"): 1e-2,
    ("mps", "float16"): 1e-2,
}


def relative_tolerance(dtype, device: str = "cpu") -> float:
    """EPS for work done in `dtype` on `device` (see TOLERANCES); other dtypes get the float64 bound."""
    kind = str(device).split(":")[0]
    name = np.dtype(dtype).name if dtype is not None else "float64"
    return TOLERANCES.get((kind, name), TOLERANCES.get(("cpu", name), TOLERANCES[("cpu", "float64")]))


def tolerance(dtype: np.dtype, scale: float, device: str = "cpu") -> float:
    """Absolute tolerance for a result of this dtype and device whose values are about `scale` in size."""
    return relative_tolerance(dtype, device) * max(1.0, scale)


def _tol(actual: np.ndarray, expected: np.ndarray, dtype, device: str) -> float:
    # The inputs' precision decides: float32 work stored in a float64 array is still float32 work.
    if dtype is None:
        dtype = actual.dtype if actual.dtype.kind == "f" else np.float64
    return tolerance(dtype, float(np.abs(expected).max(initial=0)), device)


def largest_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max|actual - expected| / max(1, max|expected|): what TOLERANCES bound (inf for a wrong shape or NaN)."""
    if actual.shape != expected.shape or actual.dtype.kind not in "biuf":
        return float("inf")
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(actual.astype(np.float64) - expected)
    if not np.all(np.isfinite(diff)):
        return float("inf")
    return float(diff.max(initial=0.0)) / max(1.0, float(np.abs(expected).max(initial=0)))


def close(actual: np.ndarray, expected: np.ndarray, dtype=None, device: str = "cpu") -> bool:
    """Same shape, all finite, and within the tolerance of `dtype` (default: the result's) on `device` everywhere."""
    if actual.shape != expected.shape or actual.dtype.kind not in "biuf":
        return False
    tol = _tol(actual, expected, dtype, device)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(actual.astype(np.float64) - expected)
    return bool(np.all(np.isfinite(diff)) and np.all(diff <= tol))


# Where measured errors go while `recording()` is active (benchmarks/gpu_check.py): off by default.
_measured: list | None = None


@contextmanager
def recording():
    """Within this block, every comparison with a reference (Context.matches) appends (check, error, tolerance)."""
    global _measured
    previous, _measured = _measured, []
    try:
        yield _measured
    finally:
        _measured = previous


def note(check: str, error: float, eps: float) -> None:
    """Record one comparison's largest relative error and the tolerance it was held to, when recording."""
    if _measured is not None:
        _measured.append((check, error, eps))


def as_float64(actual: np.ndarray) -> np.ndarray:
    """The values as float64 for measuring differences (a complex array's real part: the message says it was complex)."""
    return (actual.real if actual.dtype.kind == "c" else actual).astype(np.float64)


def where_different(actual: np.ndarray, expected: np.ndarray, dtype=None, what: str = "output",
                    device: str = "cpu") -> tuple[str, tuple]:
    """Words and a heat map for an array of the right shape but wrong values: (C, H, W) or (H, W)."""
    tol = _tol(actual, expected, dtype, device)
    complex_values = actual.dtype.kind == "c"
    actual = as_float64(actual)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(actual - expected)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    bad = np.argwhere(diff > tol)
    if len(bad) == 0:
        return "", ()
    first = tuple(int(i) for i in bad[0])
    worst = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
    n_bad, n = len(bad), diff.size
    text = (f"{n_bad} of {n} values differ. First at index {first}: yours {float(actual[first]):.6g}, "
            f"expected {float(expected[first]):.6g}. Largest error {float(diff[worst]):.3g} at {worst}.")
    if not np.all(np.isfinite(actual)):
        text += " Your output contains NaN or inf."
    if complex_values:
        text += " Your output is complex (compared by its real part): return real numbers."
    figures: tuple = ()
    if diff.ndim == 3:  # draw the channel with the largest error
        c = worst[0]
        figures = (Heatmap(f"|yours - expected| in output channel {c}",
                           tuple(tuple(float(v) for v in row) for row in np.minimum(diff[c], 1e300)), tol),)
    elif diff.ndim == 2:
        figures = (Heatmap(f"|yours - expected| in the {what}",
                           tuple(tuple(float(v) for v in row) for row in np.minimum(diff, 1e300)), tol),)
    return text, figures
