"""Recursion through C code with the recursion limit lifted: the C stack overflows (SIGSEGV).

exercise: exercise1
statuses: crashed
passes: none
checks: returns_array values_plain numpy_only
"""
import sys

sys.setrecursionlimit(10**7)


class Deep:
    def __init__(self, n):
        self.n = n

    def __repr__(self):
        return repr(Deep(self.n + 1))


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return repr(Deep(0))
