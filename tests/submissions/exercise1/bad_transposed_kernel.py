"""Unpacks the kernel size as (kW, kH) instead of (kH, kW).

Square kernels hide the slip. With a non-square kernel the output gets the wrong
shape and only part of the kernel is used, or indexing runs off the kernel.

expect: fails shapes_grid values_pairs
names: non-square
"""
import numpy as np


def conv2d(x, weight, bias=None, stride=1, padding=0):
    if x.ndim != 3:
        raise ValueError("x must be (C_in, H, W)")
    if weight.ndim != 4:
        raise ValueError("weight must be (C_out, C_in, kH, kW)")
    C_in, H, W = x.shape
    C_out, C_w, kW, kH = weight.shape
    if C_w != C_in:
        raise ValueError("channel mismatch")
    if bias is not None and bias.shape != (C_out,):
        raise ValueError("bias must have C_out entries")
    sH, sW = stride if isinstance(stride, (tuple, list)) else (stride, stride)
    pH, pW = padding if isinstance(padding, (tuple, list)) else (padding, padding)
    if sH < 1 or sW < 1:
        raise ValueError("stride must be >= 1")
    if pH < 0 or pW < 0:
        raise ValueError("padding must be >= 0")
    if kH > H + 2 * pH or kW > W + 2 * pW:
        raise ValueError("kernel larger than padded input")

    xp = np.pad(x, ((0, 0), (pH, pH), (pW, pW)))
    H_out = (H + 2 * pH - kH) // sH + 1
    W_out = (W + 2 * pW - kW) // sW + 1
    out = np.zeros((C_out, H_out, W_out), dtype=x.dtype)
    for u in range(kH):
        for v in range(kW):
            rows = xp[:, u:u + sH * (H_out - 1) + 1:sH, v:v + sW * (W_out - 1) + 1:sW]
            out += np.einsum("oc,chw->ohw", weight[:, :, u, v], rows)
    if bias is not None:
        out += bias[:, None, None]
    return out
