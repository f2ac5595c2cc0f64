"""Prints 100 MB at import and a little more per call: the output kept is capped, the run stays fast.

exercise: exercise1
statuses: failed
passes: none
"""
import sys

import numpy as np

LINE = "x" * 1023 + "\n"
for _ in range(100 * 1024):
    sys.stdout.write(LINE)
sys.stdout.flush()


def conv2d(x, weight, bias=None, stride=1, padding=0):
    print("still talking " * 1000)
    return np.zeros((weight.shape[0], 1, 1))
