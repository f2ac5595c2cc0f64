"""Returns a 600 MiB array (a broadcast view, so it costs nothing until it is sent), past the 512 MiB frame limit.

exercise: exercise1
statuses: crashed
passes: none
checks: returns_array
options: memory_mb=4096
"""
import numpy as np


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return np.broadcast_to(np.float64(0.0), (weight.shape[0], 2**13, 9600 // weight.shape[0]))
