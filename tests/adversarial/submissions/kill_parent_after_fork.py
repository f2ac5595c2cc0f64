"""Starts a sleeping daemon (named by a marker), then SIGKILLs the grader: nothing of the run may survive it.

exercise: exercise1
statuses: failed
passes: none
via: cli
report: optional
marker: yes
"""
import os
import signal

import numpy as np

MARKER = "@MARKER@"


def _tell_cgroup():
    """Leave the name of this sandbox's pids cgroup beside the report, so the test can look for it afterwards."""
    try:
        with open("/proc/self/cgroup") as f, open(f"/proc/{os.getppid()}/cwd/sandbox_cgroup.txt", "w") as out:
            out.write(f.read())
    except OSError:
        pass


_tell_cgroup()

ready, done = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(done, b"x")
        os.closerange(0, 256)
        os.execv("/bin/sleep", [MARKER, "300"])
    os._exit(0)
os.close(done)
os.read(ready, 1)
os.kill(os.getppid(), signal.SIGKILL)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return np.zeros((weight.shape[0], 1, 1))
