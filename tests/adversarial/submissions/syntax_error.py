"""A syntax error on line 9: the file is refused before it runs.

exercise: exercise1
statuses: error
passes: none
"""


def conv2d(x, weight, bias=None, stride=1, padding=0)
    return x
