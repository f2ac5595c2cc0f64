"""os._exit(0) at import.

exercise: exercise1
statuses: crashed
passes: none
"""
import os

os._exit(0)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return x
