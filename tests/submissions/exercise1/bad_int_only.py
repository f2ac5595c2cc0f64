"""Treats stride and padding as plain ints: int((1, 2)) crashes with a TypeError.

expect: fails values_pairs
names: tuple
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv2d(x, weight, bias=None, stride=1, padding=0):
    if x.ndim != 3 or weight.ndim != 4:
        raise ValueError("x must be (C,H,W) and weight (O,C,kH,kW)")
    if x.shape[0] != weight.shape[1]:
        raise ValueError("channel mismatch between x and weight")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError("bias must have one value per filter")
    s = int(stride)
    p = int(padding)
    if s < 1 or p < 0:
        raise ValueError("stride must be >= 1 and padding >= 0")
    kh, kw = weight.shape[2:]
    if kh > x.shape[1] + 2 * p or kw > x.shape[2] + 2 * p:
        raise ValueError("kernel larger than the padded input")

    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    win = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::s, ::s]
    out = np.einsum("chwij,ocij->ohw", win, weight)
    if bias is not None:
        out = out + bias[:, None, None]
    return out
