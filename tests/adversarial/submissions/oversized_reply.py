"""Returns a 20 MB string, past the protocol's 16 MiB header limit: the reply is refused, the child ended.

exercise: exercise1
statuses: crashed
passes: none
checks: returns_array values_plain numpy_only
"""


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return "0" * 20_000_000
