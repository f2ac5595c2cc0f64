"""Never refuses a kernel larger than the input.

expect: fails errors
names: valueerror
"""
import numpy as np


def max_pool2d(x, kernel_size, stride=None):
    k = kernel_size
    s = stride or k
    c, h, w = x.shape
    out_h, out_w = max((h - k) // s + 1, 0), max((w - k) // s + 1, 0)
    out = np.zeros((c, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, i * s:i * s + k, j * s:j * s + k].max(axis=(1, 2))
    return out
