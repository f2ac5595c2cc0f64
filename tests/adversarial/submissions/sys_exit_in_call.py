"""sys.exit(0) inside conv2d: a SystemExit is an exception like any other, the child survives it.

exercise: exercise1
statuses: error
passes: none
"""
import sys


def conv2d(x, weight, bias=None, stride=1, padding=0):
    sys.exit(0)
