"""Builds the answer as nested Python lists and returns them as they are.

expect: fails returns_array dtype
names: ndarray
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
    H_out = (H + 2 * pH - kH) // sH + 1
    W_out = (W + 2 * pW - kW) // sW + 1
    result = []
    for o in range(C_out):
        channel = []
        for i in range(H_out):
            row = []
            for j in range(W_out):
                patch = xp[:, i * sH:i * sH + kH, j * sW:j * sW + kW]
                value = float(np.sum(patch * weight[o]))
                if bias is not None:
                    value += float(bias[o])
                row.append(value)
            channel.append(row)
        result.append(channel)
    return result
