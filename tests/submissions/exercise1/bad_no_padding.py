"""Reads the padding argument but never pads the image.

expect: fails shapes_grid values_padding values_stride values_pairs
names: padding
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    if x.ndim != 3 or weight.ndim != 4:
        raise ValueError("x must be (C,H,W) and weight (O,C,kH,kW)")
    if x.shape[0] != weight.shape[1]:
        raise ValueError("channel mismatch between x and weight")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError("bias must have one value per filter")
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    if sh < 1 or sw < 1 or ph < 0 or pw < 0:
        raise ValueError("stride must be >= 1 and padding >= 0")
    kh, kw = weight.shape[2:]
    if kh > x.shape[1] + 2 * ph or kw > x.shape[2] + 2 * pw:
        raise ValueError("kernel larger than the padded input")

    win = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    out = np.einsum("chwij,ocij->ohw", win, weight)
    if bias is not None:
        out = out + bias[:, None, None]
    return out
