"""Slides every window one pixel on, whatever the stride.

expect: fails output_shape
names: stride
"""
import numpy as np


def max_pool2d(x, kernel_size, stride=None):
    k = kernel_size
    if k > x.shape[1] or k > x.shape[2]:
        raise ValueError("kernel larger than the input")
    return np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2)).max(axis=(-2, -1))
