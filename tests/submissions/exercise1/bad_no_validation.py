"""Computes the right thing for good inputs but never checks its arguments.

Bad inputs end in an IndexError, a ZeroDivisionError or a silently wrong
result instead of a ValueError that explains the problem.

expect: fails errors_rank errors_mismatch errors_hyper
names: valueerror
"""
import numpy as np


def conv2d(x, weight, bias=None, stride=1, padding=0):
    sH, sW = stride if isinstance(stride, (tuple, list)) else (stride, stride)
    pH, pW = padding if isinstance(padding, (tuple, list)) else (padding, padding)
    H, W = x.shape[1], x.shape[2]
    kH, kW = weight.shape[2], weight.shape[3]
    H_out = (H + 2 * pH - kH) // sH + 1
    W_out = (W + 2 * pW - kW) // sW + 1

    xp = np.zeros((x.shape[0], H + 2 * pH, W + 2 * pW), dtype=x.dtype)
    xp[:, pH:pH + H, pW:pW + W] = x
    out = np.zeros((weight.shape[0], max(H_out, 0), max(W_out, 0)), dtype=x.dtype)
    for o in range(weight.shape[0]):
        for i in range(H_out):
            for j in range(W_out):
                total = 0
                for c in range(weight.shape[1]):
                    patch = xp[c, i * sH:i * sH + kH, j * sW:j * sW + kW]
                    total += np.sum(patch * weight[o, c])
                out[o, i, j] = total
        if bias is not None:
            out[o] += bias[o]
    return out
