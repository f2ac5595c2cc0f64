"""Grows a list of 8 MiB blocks until the memory cap stops it.

exercise: exercise1
statuses: memory
passes: none
options: memory_mb=512
checks: returns_array values_plain bias numpy_only
"""
hoard = []


def conv2d(x, weight, bias=None, stride=1, padding=0):
    while True:
        hoard.append(bytearray(8 * 2**20))
