"""Forks as many sleeping children as it is allowed (at most 200): the process cap stops it, all are ended.

exercise: exercise1
statuses: failed
passes: none
marker: yes
"""
import os

import numpy as np

MARKER = "@MARKER@"


def conv2d(x, weight, bias=None, stride=1, padding=0):
    for _ in range(200):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            os.execv("/bin/sleep", [MARKER, "300"])
    return np.zeros((weight.shape[0], 1, 1))
