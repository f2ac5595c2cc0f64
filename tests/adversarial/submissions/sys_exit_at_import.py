"""sys.exit(0) at import, before conv2d is even defined.

exercise: exercise1
statuses: error
passes: none
"""
import sys

sys.exit(0)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return x
