"""A segfault through ctypes in exercise 1: ctypes is refused before anything runs.

exercise: exercise1
statuses: error
passes: none
"""
import ctypes


def conv2d(x, weight, bias=None, stride=1, padding=0):
    ctypes.string_at(0)
