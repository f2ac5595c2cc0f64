"""os._exit(0) inside conv2d: the process ends with a zero code and no reply.

exercise: exercise1
statuses: crashed
passes: none
"""
import os


def conv2d(x, weight, bias=None, stride=1, padding=0):
    os._exit(0)
