"""Loops that never pad: the output size and the windows both leave padding out.

The shapes come out too small wherever padding > 0. A kernel exactly as large as the padded
input is valid, but here it makes H - kH + 1 negative and np.zeros fails with NumPy's
"negative dimensions are not allowed": that is the padding mistake again, not a refusal of
the kernel, so the check of the ValueErrors does not blame it.

expect: fails shapes_grid values_padding values_stride values_pairs
names: ignore padding
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

    H_out = (H - kH) // sH + 1
    W_out = (W - kW) // sW + 1
    out = np.zeros((C_out, H_out, W_out), dtype=x.dtype)
    for o in range(C_out):
        for i in range(H_out):
            for j in range(W_out):
                patch = x[:, i * sH:i * sH + kH, j * sW:j * sW + kW]
                out[o, i, j] = np.sum(patch * weight[o])
        if bias is not None:
            out[o] += bias[o]
    return out
