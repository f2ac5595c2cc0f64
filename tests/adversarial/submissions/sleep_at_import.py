"""time.sleep for an hour at import.

exercise: exercise1
statuses: timeout
passes: none
options: timeout=1
"""
import time

time.sleep(3600)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return x
