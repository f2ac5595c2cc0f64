"""Judging returned arrays: type and shape, closeness with dtype-aware tolerances, where they differ."""

from __future__ import annotations

import numpy as np

from .errors import CheckFailed
from .results import Heatmap
from .sandbox.protocol import Opaque, TensorData


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


def tolerance(dtype: np.dtype, scale: float) -> float:
    """Absolute tolerance for a result of this dtype whose values are about `scale` in size."""
    eps = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 1e-4}.get(np.dtype(dtype), 1e-9)
    return eps * max(1.0, scale)


def _tol(actual: np.ndarray, expected: np.ndarray, dtype) -> float:
    # The inputs' precision decides: float32 work stored in a float64 array is still float32 work.
    if dtype is None:
        dtype = actual.dtype if actual.dtype.kind == "f" else np.float64
    return tolerance(dtype, float(np.abs(expected).max(initial=0)))


def close(actual: np.ndarray, expected: np.ndarray, dtype=None) -> bool:
    """Same shape, all finite, and within the tolerance of `dtype` (default: the result's) everywhere."""
    if actual.shape != expected.shape or actual.dtype.kind not in "biuf":
        return False
    tol = _tol(actual, expected, dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(actual.astype(np.float64) - expected)
    return bool(np.all(np.isfinite(diff)) and np.all(diff <= tol))


def as_float64(actual: np.ndarray) -> np.ndarray:
    """The values as float64 for measuring differences (a complex array's real part: the message says it was complex)."""
    return (actual.real if actual.dtype.kind == "c" else actual).astype(np.float64)


def where_different(actual: np.ndarray, expected: np.ndarray, dtype=None, what: str = "output") -> tuple[str, tuple]:
    """Words and a heat map for an array of the right shape but wrong values: (C, H, W) or (H, W)."""
    tol = _tol(actual, expected, dtype)
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
