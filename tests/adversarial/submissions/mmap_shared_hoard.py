"""Fills a 1 GiB shared anonymous mapping, which RLIMIT_DATA does not count: the memory cgroup does.

exercise: exercise1
statuses: memory
passes: none
checks: returns_array values_plain
options: memory_mb=512
"""
import mmap


def conv2d(x, weight, bias=None, stride=1, padding=0):
    hoard = mmap.mmap(-1, 2**30, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
    block = b"\1" * 2**20
    for i in range(1024):
        hoard[i * 2**20:(i + 1) * 2**20] = block
    return x
