"""Plain nested loops over output channel, row and column.

expect: full marks
"""
import numpy as np


def _two(v):
    if isinstance(v, (tuple, list)):
        a, b = v
        return int(a), int(b)
    return int(v), int(v)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    if x.ndim != 3:
        raise ValueError("x should have 3 dimensions (C_in, H, W)")
    if weight.ndim != 4:
        raise ValueError("weight should have 4 dimensions (C_out, C_in, kH, kW)")
    C_in, H, W = x.shape
    C_out, C_w, kH, kW = weight.shape
    if C_w != C_in:
        raise ValueError(f"x has {C_in} channels, weight wants {C_w}")
    if bias is not None and bias.shape != (C_out,):
        raise ValueError(f"bias needs {C_out} values")
    sH, sW = _two(stride)
    pH, pW = _two(padding)
    if sH < 1 or sW < 1:
        raise ValueError("stride must be >= 1")
    if pH < 0 or pW < 0:
        raise ValueError("padding must be >= 0")
    if kH > H + 2 * pH or kW > W + 2 * pW:
        raise ValueError("kernel bigger than the padded input")

    xp = np.zeros((C_in, H + 2 * pH, W + 2 * pW), dtype=x.dtype)
    xp[:, pH:pH + H, pW:pW + W] = x
    H_out = (H + 2 * pH - kH) // sH + 1
    W_out = (W + 2 * pW - kW) // sW + 1
    out = np.zeros((C_out, H_out, W_out), dtype=x.dtype)
    for o in range(C_out):
        for i in range(H_out):
            for j in range(W_out):
                total = 0.0
                for c in range(C_in):
                    patch = xp[c, i * sH:i * sH + kH, j * sW:j * sW + kW]
                    total += np.sum(patch * weight[o, c])
                if bias is not None:
                    total += bias[o]
                out[o, i, j] = total
    return out
