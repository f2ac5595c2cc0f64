"""Returns arrays of the right shape in dtypes that must not cross or not count: object, str, datetime, complex, bool.

exercise: exercise1
statuses: failed
passes: none
"""
import numpy as np

calls = 0


def conv2d(x, weight, bias=None, stride=1, padding=0):
    global calls
    calls += 1
    shape = (weight.shape[0], max(1, x.shape[1] - weight.shape[2] + 1), max(1, x.shape[2] - weight.shape[3] + 1))
    kinds = [np.full(shape, None, dtype=object), np.full(shape, "0.0"), np.zeros(shape, dtype="datetime64[s]"),
             np.zeros(shape, dtype=np.complex128), np.zeros(shape, dtype=bool),
             np.zeros(shape, dtype=[("a", "<f8")])]
    return kinds[calls % len(kinds)]
