"""Forks a child that runs `sleep` (named by a marker) and returns at once; the child must not outlive the run.

exercise: exercise1
statuses: failed
passes: none
marker: yes
"""
import os

import numpy as np

MARKER = "@MARKER@"


def conv2d(x, weight, bias=None, stride=1, padding=0):
    if os.fork() == 0:
        os.execv("/bin/sleep", [MARKER, "300"])
    return np.zeros((weight.shape[0], 1, 1))
