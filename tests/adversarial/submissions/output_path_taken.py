"""Replaces the --output path with a folder holding a file, so that renaming the report over it fails.

exercise: exercise1
statuses: failed
passes: none
via: cli
note: the grader must say so in one line (exit 2) or still write the report; never a traceback
"""
import os

import numpy as np

parent = os.getppid()
with open(f"/proc/{parent}/cmdline", "rb") as f:
    argv = f.read().decode().split("\0")
target = os.path.join(os.readlink(f"/proc/{parent}/cwd"), argv[argv.index("--output") + 1])
try:
    os.remove(target)
except OSError:
    pass
os.makedirs(os.path.join(target, "occupied"), exist_ok=True)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return np.zeros((weight.shape[0], 1, 1))
