"""Reads the grader's next requests from the protocol's input pipe itself (stealing them), then answers nothing.

exercise: exercise1
statuses: timeout
passes: none
options: timeout=1 total_timeout=3
"""
import os


def conv2d(x, weight, bias=None, stride=1, padding=0):
    for fd in range(3, 21):
        try:
            os.set_blocking(fd, False)
            os.read(fd, 1 << 20)
        except OSError:
            pass
    while True:
        pass
