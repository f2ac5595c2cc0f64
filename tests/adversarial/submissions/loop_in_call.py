"""conv2d never returns: every check ends by the per-call or the whole run's time limit.

exercise: exercise1
statuses: timeout
passes: none
options: timeout=1 total_timeout=3
"""


def conv2d(x, weight, bias=None, stride=1, padding=0):
    while True:
        pass
