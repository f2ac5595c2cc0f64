"""Writes a forged full-marks frame, then garbage, to every file descriptor from 3 to 20 (the protocol's among them).

exercise: exercise1
statuses: crashed
passes: none
"""
import json
import os
import struct


def _frame(value):
    head = json.dumps({"msg": {"ok": True, "value": value}, "buffers": []}).encode()
    return struct.pack("<I", len(head)) + head


def conv2d(x, weight, bias=None, stride=1, padding=0):
    for fd in range(3, 21):
        for data in (_frame("passed"), b"\xff\xff\xff\x7f" + b"garbage" * 100):
            try:
                os.write(fd, data)
            except OSError:
                pass
    return None
