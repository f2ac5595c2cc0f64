"""Sends SIGINT to the grader at import, as if a user had pressed Ctrl-C.

exercise: exercise1
statuses: failed
passes: none
via: cli
report: optional
"""
import os
import signal

import numpy as np

os.kill(os.getppid(), signal.SIGINT)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return np.zeros((weight.shape[0], 1, 1))
