"""An endless loop that ignores every signal it can: only SIGKILL ends it, and the grader must use it.

exercise: exercise1
statuses: timeout
passes: none
options: timeout=1 total_timeout=3
"""
import signal

for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGPIPE"):
    signal.signal(getattr(signal, name), signal.SIG_IGN)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    while True:
        try:
            while True:
                pass
        except BaseException:
            continue
