"""Replaces the --output path with a folder holding a file, so that renaming the report over it fails.

exercise: exercise1
statuses: failed
passes: none
via: cli
note: the grader must say so in one line (exit 2) or still write the report; never a traceback
report: optional
"""
import os

import numpy as np


def _output_path():
    """The grader's --output path, from the command line of whichever process it can see carrying one."""
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().decode().split("\0")
            if "--output" in argv:
                return os.path.join(os.readlink(f"/proc/{entry}/cwd"), argv[argv.index("--output") + 1])
        except (OSError, ValueError, IndexError):
            continue
    return None  # out of sight (the grader runs in another PID namespace): nothing to attack


target = _output_path()
if target:
    try:
        os.remove(target)
    except OSError:
        pass
    os.makedirs(os.path.join(target, "occupied"), exist_ok=True)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return np.zeros((weight.shape[0], 1, 1))
