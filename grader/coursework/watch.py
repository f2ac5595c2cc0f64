"""`cnn-grade exerciseN --watch`: grade again on every save of the student's file, in one warm process."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..grading.engine import grade_exercise
from ..grading.limits import DEFAULT as LIMITS
from ..errors import ToolError
from ..grading.exercises import resolve
from ..report import print_report
from ..grading.results import Report
from ..sandbox import zygote
from .scores import record
from ..grading.submission import locate

POLL = 0.05  # seconds between looks at the file
QUIET = 0.05  # a change is graded once the file has held still this long: editors write in bursts
# Coarse file-system clocks (1-2 s on some) can hide a rewrite of the same size in the same tick:
# a file modified this recently is hashed on every look, older ones only when their stat changes.
RECENT_NS = 3_000_000_000

Signature = tuple[int, int, str]  # (mtime_ns, size, content digest)


def watch_exercise(exercise: str, *, submission: str | Path | None = None, seed: int | None = None,
                   device: str = "cpu", timeout: float = LIMITS.timeout, memory_mb: int | None = LIMITS.memory_mb,
                   total_timeout: float | None = LIMITS.total_timeout, verbose: bool = False,
                   console: Console | None = None, stop: threading.Event | None = None,
                   on_report: Callable[[Report], None] | None = None) -> None:
    """Grade `exercise` now and after every save of its file, until `stop` is set or Ctrl-C.

    Each run is a full `grade_exercise` (a fresh sandbox child); this process stays warm, so a
    save costs only the child and the checks. Tool errors of the first run (bad options, an
    unreadable file) are raised; later ones are shown and watching goes on.
    """
    ex = resolve(exercise)
    path = locate(ex, submission)  # resolved once: the file keeps its name while it is edited
    zygote.enable()  # each save's child is forked from a process that imported torch once
    console = console or Console(highlight=False, soft_wrap=False)
    stop = stop or threading.Event()
    shown = _display_name(path)

    def grade() -> Report:
        return grade_exercise(ex.name, submission=path, seed=seed, device=device, timeout=timeout,
                              memory_mb=memory_mb, total_timeout=total_timeout)

    # Taken before each run, so a save during the run is seen as a change once it ends.
    seen = signature(path)
    # The first run also warms this process up: torch, the check module and the references.
    _show(grade(), console, shown, verbose, on_report, seen)
    while True:
        seen = _next_change(path, seen, stop, console, shown)
        if seen is None:
            return
        console.print(Text(f"{_clock()}  {shown} changed: grading…", style="dim"), soft_wrap=True)
        try:
            report = grade()
        except ToolError as e:
            if path.exists():  # still there but unusable: say so; a missing one is waited for below
                _header(console, shown)
                console.print(Text(str(e), style="red"))
            continue
        _show(report, console, shown, verbose, on_report, seen)


def signature(path: Path, previous: Signature | None = None) -> Signature | None:
    """What the file looks like now (None when it is missing); `previous` spares re-reading an old, unchanged file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    if (previous is not None and previous[:2] == (stat.st_mtime_ns, stat.st_size)
            and time.time_ns() - stat.st_mtime_ns > RECENT_NS):
        return previous
    try:
        digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
    except FileNotFoundError:
        return None
    except OSError:  # unreadable: grading it says why
        digest = "unreadable"
    return (stat.st_mtime_ns, stat.st_size, digest)


def _next_change(path: Path, seen: Signature | None, stop: threading.Event, console: Console,
                 shown: str) -> Signature | None:
    """Wait until the file differs from `seen` and has held still for QUIET; None once `stop` is set."""
    current, since = seen, time.monotonic()
    while not stop.wait(POLL):
        now = signature(path, current)
        if now != current:
            current, since = now, time.monotonic()
            continue
        if current == seen or time.monotonic() - since < QUIET:
            continue
        if current is not None:
            return current
        # Gone for a while, not just renamed over by an editor: say so once, and wait for it.
        console.print(Text(f"{_clock()}  {shown} is gone; waiting for it to come back — Ctrl-C to stop",
                           style="yellow"), soft_wrap=True)
        seen = None
    return None


def _show(report: Report, console: Console, shown: str, verbose: bool,
          on_report: Callable[[Report], None] | None, saved: Signature | None) -> None:
    """Replace the screen with the new report and a status line under it, then tell the hook."""
    record(report)  # so `cnn-grade list` knows the latest score
    _header(console, shown)
    print_report(report, console, verbose=verbose)
    console.print()
    console.print(status_line(shown, saved, report), soft_wrap=True)
    console.file.flush()
    if on_report is not None:
        on_report(report)


def status_line(shown: str, saved: Signature | None, report: Report) -> Text:
    """The last line on screen, where the eye lands after a long report: file, save, grading time, how to stop."""
    when = time.strftime("%H:%M:%S", time.localtime(saved[0] / 1e9)) if saved else "?"
    return Text.assemble(("watching ", "dim"), (shown, "bold"), ("  ·  saved ", "dim"), when,
                         ("  ·  graded in ", "dim"), f"{report.duration:.1f} s",
                         ("  ·  ", "dim"), f"{report.score:g}/{report.max_score:g}", ("  ·  Ctrl-C to stop", "dim"))


def _header(console: Console, shown: str) -> None:
    console.clear()  # a no-op when the output is not a terminal
    console.print(Text(f"{_clock()}  watching {shown} — Ctrl-C to stop", style="bold"), soft_wrap=True)
    console.print()


def _clock() -> str:
    return time.strftime("%H:%M:%S")


def _display_name(path: Path) -> str:
    """The file as the student would type it: relative to the current folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)
