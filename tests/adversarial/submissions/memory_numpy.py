"""Asks NumPy for 16 GiB per call, far past the 512 MiB cap.

exercise: exercise1
statuses: memory
passes: none
options: memory_mb=512
"""
import numpy as np


def conv2d(x, weight, bias=None, stride=1, padding=0):
    waste = np.ones(2**31)  # 16 GiB of float64
    return waste[:1]
