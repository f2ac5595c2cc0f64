"""The zygote: a process that imported numpy/torch and the child's code once, and forks sandbox children on request.

Started by grader.sandbox.zygote as `python -I -u -c BOOT IMPORTS_JSON FD`, where FD is its end of a
SOCK_SEQPACKET socket pair. Each request is one JSON message (the child's config, working folder and
environment) carrying three file descriptors (the child's stdin, stdout and stderr pipes). The zygote
forks; the fork becomes exactly what `python -c "...child.main()" CONFIG` would have been, minus the
imports: it sets up its session, fds, folder and environment, then runs grader.sandbox.child.main,
which enters its namespaces and loads the student's file. The zygote answers {"pid": N}, and
{"ended": N, "code": C} once that child is gone (C as subprocess reports it: negative for a signal).

Nothing here touches CUDA: a CUDA context does not survive fork, so the children make their own.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys

MAX_MESSAGE = 1 << 20


def main() -> None:
    imports = json.loads(sys.argv[1])
    control = socket.socket(fileno=int(sys.argv[2]))
    from .isolate import _libc

    _libc().prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG: the zygote dies with the grader
    for name in imports:
        __import__(name)
    # The child's own modules, so a fork starts with all of them loaded.
    from . import child, isolate, limits, probes, protocol  # noqa: F401

    if "torch" in sys.modules:
        from . import torch_probes  # noqa: F401

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # the wakeup fd is what matters
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grader's to handle
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ, "control")
    selector.register(wake_r, selectors.EVENT_READ, "children")
    control.send(json.dumps({"ready": os.getpid()}).encode())
    while True:
        for key, _ in selector.select():
            if key.data == "children":
                os.read(wake_r, 4096)
                _report_ended(control)
                continue
            try:
                message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 3)
            except OSError:
                os._exit(0)
            if not message:  # the grader closed its end: no more children to make
                os._exit(0)
            try:
                request = json.loads(message)
                if len(fds) != 3:
                    raise ValueError("a request carries three file descriptors")
            except ValueError as e:
                for fd in fds:
                    os.close(fd)
                control.send(json.dumps({"refused": str(e)}).encode())
                continue
            pid = os.fork()
            if pid == 0:
                _become_child(request, fds)
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"pid": pid}).encode())
            _report_ended(control)


def _report_ended(control: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.waitstatus_to_exitcode(status)
        control.send(json.dumps({"ended": pid, "code": code}).encode())


def _become_child(request: dict, fds: list[int]) -> None:
    """In the fork: look like a freshly started child (session, fds 0-2, folder, environment), then serve."""
    try:
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL if number == signal.SIGCHLD else signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()  # as start_new_session: the sandbox kills this process group at the end
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, 1 << 16)  # the zygote's socket and pipes, the request's fds: none is the student's
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _reseed()
        sys.argv = ["-c", json.dumps(request["config"])]
        from . import child

        child.main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001 - a broken start must not return into the zygote's loop
        code = 70
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _reseed() -> None:
    """Forks share the zygote's random state: give each child its own, as a fresh Python would have."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


if __name__ == "__main__":
    main()
