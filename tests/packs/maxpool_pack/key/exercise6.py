"""Exercise 6: 2-D max pooling in NumPy."""
import numpy as np


def max_pool2d(x, kernel_size, stride=None):
    """Max over each kernel_size x kernel_size window of every channel of x (C, H, W)."""
    # BEGIN SOLUTION
    k = int(kernel_size)
    s = k if stride is None else int(stride)
    c, h, w = x.shape
    if k > h or k > w:
        raise ValueError(f"kernel {k} is larger than the input {h}x{w}")
    out_h, out_w = (h - k) // s + 1, (w - k) // s + 1
    out = np.empty((c, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            out[:, i, j] = x[:, i * s:i * s + k, j * s:j * s + k].max(axis=(1, 2))
    return out
    # END SOLUTION
