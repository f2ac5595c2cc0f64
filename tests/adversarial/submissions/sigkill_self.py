"""conv2d sends SIGKILL to its own process.

exercise: exercise1
statuses: crashed
passes: none
"""
import os
import signal


def conv2d(x, weight, bias=None, stride=1, padding=0):
    os.kill(os.getpid(), signal.SIGKILL)
