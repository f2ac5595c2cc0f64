"""Unbounded recursion in conv2d: Python's RecursionError is the student's exception.

exercise: exercise1
statuses: error
passes: none
"""


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return conv2d(x, weight, bias, stride, padding) + 1
