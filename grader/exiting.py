"""Leaving the process quickly once everything is written: torch's teardown alone takes about half a second."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_code(code: object) -> int:
    """What sys.exit(code) would make the exit status: None is 0, a number itself, anything else is printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def exit_fast(code: object) -> NoReturn:
    """Exit as sys.exit(code) would, without the interpreter's teardown of its modules.

    Everything a normal exit does that has an effect happens first: other threads are waited for, the atexit
    handlers run (zygotes ended, temporary folders removed) and the output streams are flushed. Only the freeing
    of every loaded module is skipped: with torch loaded that takes about 0.5 s on a 2-core machine, time a
    student waits for at every run, after the report is already out.
    """
    status = exit_code(code)
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    run_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_handlers is None:  # an interpreter without it: the ordinary exit, teardown included
        sys.exit(status)
    run_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head) or a closed stream: nothing more can be written
            pass
    os._exit(status)
