"""Returns +inf and -inf, alternating, in an array of the expected shape and dtype.

exercise: exercise1
statuses: failed passed
passes: returns_array shapes_grid
note: shape-only checks may pass: the shape is right, the values are infinite
"""
import numpy as np


def _size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def _pair(v):
    return (int(v), int(v)) if np.ndim(v) == 0 else (int(v[0]), int(v[1]))


def conv2d(x, weight, bias=None, stride=1, padding=0):
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    c_out, _, kh, kw = weight.shape
    shape = (c_out, _size(x.shape[1], kh, sh, ph), _size(x.shape[2], kw, sw, pw))
    out = np.full(shape, np.inf, dtype=x.dtype)
    out.flat[::2] = -np.inf
    return out
