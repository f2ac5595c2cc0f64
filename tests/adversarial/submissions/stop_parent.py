"""Sends SIGSTOP to the grader: a stopped grader can neither time the call out nor kill the child.

exercise: exercise1
statuses: failed
passes: none
via: cli
options: timeout=1 total_timeout=3
report: optional
note: the run must end on its own, within its time limits
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
    os.kill(os.getppid(), signal.SIGSTOP)
    return np.zeros((weight.shape[0], 1, 1))
