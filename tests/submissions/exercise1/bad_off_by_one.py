"""Loops written with H_out = (H + 2p - k) // s, the +1 forgotten: one row and one column short.

expect: fails returns_array shapes_grid values_plain values_padding values_stride values_pairs
names: output size
"""
import numpy as np


def conv2d(x, weight, bias=None, stride=1, padding=0):
    if x.ndim != 3:
        raise ValueError("x must be (C_in, H, W)")
    if weight.ndim != 4:
        raise ValueError("weight must be (C_out, C_in, kH, kW)")
    C_in, H, W = x.shape
    C_out, C_w, kH, kW = weight.shape
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
    H_out = (H + 2 * pH - kH) // sH
    W_out = (W + 2 * pW - kW) // sW
    out = np.zeros((C_out, H_out, W_out), dtype=x.dtype)
    for o in range(C_out):
        for i in range(H_out):
            for j in range(W_out):
                patch = xp[:, i * sH:i * sH + kH, j * sW:j * sW + kW]
                out[o, i, j] = np.sum(patch * weight[o])
        if bias is not None:
            out[o] += bias[o]
    return out
