"""conv2d SIGKILLs its whole process group (signal to pid 0): itself and anything it started.

exercise: exercise1
statuses: crashed
passes: none
"""
import os
import signal


def conv2d(x, weight, bias=None, stride=1, padding=0):
    os.kill(0, signal.SIGKILL)
