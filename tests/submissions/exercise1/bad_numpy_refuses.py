"""Leaves the arguments to NumPy: no check of its own, einsum and np.pad refuse what they cannot compute.

Most bad inputs do end in a ValueError, but NumPy's ("operands could not be broadcast
together", "slice step cannot be zero"), raised from the middle of the computation; a weight
with one input channel, a bias of length 1 or a negative stride go through and return a
wrong array.

expect: fails errors_rank errors_mismatch errors_hyper
names: not with a check of its own
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    kh, kw = weight.shape[2:]
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    out = np.einsum("chwij,ocij->ohw", win, weight)
    if bias is not None:
        out = out + bias[:, None, None]
    return out
