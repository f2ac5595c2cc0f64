"""An endless loop at import: the import times out once and every check reports that.

exercise: exercise1
statuses: timeout
passes: none
options: timeout=1
"""
while True:
    pass


def conv2d(x, weight, bias=None, stride=1, padding=0):
    return x
