"""A daemon that also drops the sandbox's environment marker and, where allowed, leaves its cgroup.

exercise: exercise1
statuses: failed
passes: none
marker: yes
note: as root it can move itself to the root pids cgroup; elsewhere that write fails and it is a plain daemon
"""
import os

import numpy as np

MARKER = "@MARKER@"


def _escape():
    ready, done = os.pipe()  # the import returns only once the daemon has left
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for procs in ("/sys/fs/cgroup/pids/cgroup.procs", "/sys/fs/cgroup/cgroup.procs"):
                try:
                    with open(procs, "w") as f:
                        f.write(str(os.getpid()))
                except OSError:
                    pass
            os.write(done, b"x")
            os.closerange(0, 256)
            os.execve("/bin/sleep", [MARKER, "300"], {})
        os._exit(0)
    os.close(done)
    os.read(ready, 1)
    os.close(ready)


_escape()


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return np.zeros((weight.shape[0], 1, 1))
