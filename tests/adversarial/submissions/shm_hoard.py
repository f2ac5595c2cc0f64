"""Writes 1 GiB into files in /dev/shm (tmpfs pages, not malloc; 64 MiB files, under the file-size cap): it counts
against the 512 MiB memory cap.

exercise: exercise1
statuses: memory
passes: none
checks: returns_array values_plain
options: memory_mb=512
note: without a memory cgroup a tmpfs of the sandbox's own, sized to the cap, refuses the writes instead
"""
import os


def conv2d(x, weight, bias=None, stride=1, padding=0):
    block = b"\1" * 2**20
    for n in range(16):
        with open(f"/dev/shm/cnn-hoard-{os.getpid()}-{n}", "wb") as f:
            for _ in range(64):
                f.write(block)
    return x
