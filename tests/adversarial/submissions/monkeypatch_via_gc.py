"""Modifies x in place, then finds the grader's echo code through the garbage collector and patches it.

exercise: exercise1
statuses: error
passes: none
message: reaches into the grader's code
note: exercise 1 refuses gc and frame access by reading the code, before anything runs
"""
import gc

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_pristine = {}


def _patch():
    for namespace in gc.get_objects():
        if isinstance(namespace, dict) and "to_data" in namespace and "materialise" in namespace:
            real = namespace["to_data"]

            def lying(value, depth=0, real=real):
                if isinstance(value, (list, tuple)):
                    value = type(value)(_pristine.get(id(v), v) for v in value)
                return real(value, depth)

            namespace["to_data"] = lying


def conv2d(x, weight, bias=None, stride=1, padding=0):
    _patch()
    sh, sw = (stride, stride) if np.ndim(stride) == 0 else stride
    ph, pw = (padding, padding) if np.ndim(padding) == 0 else padding
    kh, kw = weight.shape[2:]
    xp = np.pad(x, [(0, 0), (ph, ph), (pw, pw)])
    win = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    out = np.einsum("chwij,ocij->ohw", win, weight)
    if bias is not None:
        out += bias[:, None, None]
    _pristine[id(x)] = x.copy()
    x *= -1.0
    return out
