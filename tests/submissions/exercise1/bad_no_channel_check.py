"""Checks every argument but the channel counts, and lets einsum sort the channels out.

np.einsum refuses 2 weight channels for a 3-channel x by itself, but it broadcasts an axis of
length 1: weights with 1 input channel are applied to every channel of x, and a 1-channel x to
every channel of the weights. The call returns a wrong array instead of a ValueError.

expect: fails errors_mismatch
names: channel
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    if x.ndim != 3 or weight.ndim != 4:
        raise ValueError("x must be (C,H,W) and weight (O,C,kH,kW)")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError("bias must have one value per filter")
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    if sh < 1 or sw < 1 or ph < 0 or pw < 0:
        raise ValueError("stride must be >= 1 and padding >= 0")
    kh, kw = weight.shape[2:]
    if kh > x.shape[1] + 2 * ph or kw > x.shape[2] + 2 * pw:
        raise ValueError("kernel larger than the padded input")

    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    out = np.einsum("chwij,ocij->ohw", win, weight)  # a channel axis of length 1 broadcasts
    if bias is not None:
        out = out + bias[:, None, None]
    return out
