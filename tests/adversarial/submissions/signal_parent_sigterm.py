"""Sends SIGTERM to the grader (its parent process) from inside conv2d.

exercise: exercise1
statuses: failed
passes: none
via: cli
report: optional
note: the grade must still come out, or the run must fail with a nonzero exit and no passing check
"""
import os
import signal

import numpy as np


def _tell_cgroup():
    """Leave the name of this sandbox's pids cgroup beside the report, so the test can look for it afterwards."""
    try:
        with open("/proc/self/cgroup") as f, open(f"/proc/{os.getppid()}/cwd/sandbox_cgroup.txt", "w") as out:
            out.write(f.read())
    except OSError:
        pass


def conv2d(x, weight, bias=None, stride=1, padding=0):
    _tell_cgroup()
    os.kill(os.getppid(), signal.SIGTERM)
    return np.zeros((weight.shape[0], 1, 1))
