"""A daemon: fork, setsid, fork again, close everything, sleep under a marker name; it leaves the process group.

exercise: exercise1
statuses: failed
passes: none
marker: yes
"""
import os

import numpy as np

MARKER = "@MARKER@"


def _daemon():
    ready, done = os.pipe()  # return only once the daemon is on its own
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(done, b"x")
            os.closerange(0, 256)
            os.execv("/bin/sleep", [MARKER, "300"])
        os._exit(0)
    os.close(done)
    os.read(ready, 1)
    os.close(ready)


_daemon()


def conv2d(x, weight, bias=None, stride=1, padding=0):
    _daemon()
    return np.zeros((weight.shape[0], 1, 1))
