"""The report as one self-contained HTML page: the text of each check, and pictures of what went wrong.

Everything is inline (CSS in a <style>, pictures as PNG data: URIs), so the page opens from disk
with no network. Every text that may come from the student is escaped by Jinja2's autoescaping;
jinja2 and matplotlib are imported only when a page is made, or by preload(), which loads them in
a thread while grading runs. Maps and heat maps need no matplotlib (grader.report.png). All CSS
is scoped to `.cnn-report`, so the page can also sit inside a notebook's output without
restyling the notebook.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from grader.grading.results import PICTURES, STATUS_KINDS, CheckResult, Figure, Heatmap, Maps, Report, Table
from grader.report.text import OUTPUT_TAIL_LINES, _groups, _plain, _total

OUTPUT_MAX_LINES = 400  # the whole output, behind a <details>, stops here (the page must stay small)
OUTPUT_MAX_CHARS = 40_000
TEMPLATE = "report.html.j2"
# Exercises whose checks show only maps, heat maps and tables: drawn without matplotlib, so preload leaves it
# out. Importing it takes the CPU of a second, which on a busy machine slows grading more than it saves.
MAPS_ONLY = frozenset({"exercise1", "exercise4"})


@dataclass
class Picture:
    """A figure ready for the page: a PNG data URI, or a table, with its words."""

    kind: str  # "image", "panel" (maps as a table of tiles), "table" or "missing"
    title: str
    caption: str = ""
    src: str = ""
    legend: str = ""  # a line of numbers under a heat map
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    panel: object = None  # a grader.report.png.Panel


@dataclass
class Block:
    """One block of the page: a failed check (or several failed for one reason), or a passed check's figures."""

    status: str
    heading: str
    verdict: str  # "failed, 0/2 points"
    titles: list[str] = field(default_factory=list)  # the checks of a group, one per line
    message: str = ""
    hint: str = ""
    pictures: list[Picture] = field(default_factory=list)
    traceback: str = ""


_loaded: dict[str, object] = {}  # the compiled template, made once per process
_lock = threading.Lock()
_preloading: list[threading.Thread] = []
_rendering = threading.Event()  # set by to_html: a preload that has not started on matplotlib gives up
IDLE_SAMPLE = 0.1  # seconds between looks at the grading thread's CPU clock
IDLE_SHARE = 0.1  # it is waiting (on the sandbox child) when it used less than this share of a CPU ...
IDLE_SAMPLES = 2  # ... for this many samples in a row


def to_html(report: Report) -> str:
    """One exercise's report as a self-contained HTML page (images inline, no network)."""
    _rendering.set()
    for thread in _preloading:  # never import the same modules in two threads at once
        thread.join()
    return _template().render(page=_page(report), statuses=STATUS_KINDS)


def preload(exercise: str | None = None) -> None:
    """Load Jinja2 and the template now, and matplotlib (unless `exercise` draws no charts) once grading waits.

    A run with --format html calls this before grading, from the thread that grades; the work happens in
    a daemon thread, so to_html finds it done. Idempotent; never raises.
    """
    with _lock:
        if _preloading:
            return
        try:
            thread = threading.Thread(target=_load, args=(exercise not in MAPS_ONLY, threading.get_ident()),
                                      name="cnn-report-preload", daemon=True)
            thread.start()
        except Exception:  # noqa: BLE001 - no thread (e.g. at interpreter shutdown): to_html imports them itself
            return
        _preloading.append(thread)


def _load(charts: bool, grading: int) -> None:
    try:
        _template()
        # Both imports hold the GIL: importing matplotlib while the grading thread imports torch or computes
        # references only takes turns with it. Start once that thread is waiting on the sandbox child.
        if charts and _wait_until_idle(grading) and not _rendering.is_set():
            import matplotlib.backends.backend_agg  # noqa: F401 - what plots.picture draws with
            import matplotlib.figure  # noqa: F401

            from grader.report import plots  # noqa: F401
    except Exception:  # noqa: BLE001 - a failed preload only means to_html imports (and reports) it later
        pass


def _wait_until_idle(thread_id: int) -> bool:
    """Wait until thread `thread_id` uses little CPU; False when to_html began first (then it imports itself)."""
    try:
        clock = time.pthread_getcpuclockid(thread_id)
        used = time.clock_gettime(clock)
    except (AttributeError, OSError):  # no per-thread CPU clock here: start at once
        return True
    quiet = 0
    while quiet < IDLE_SAMPLES:
        if _rendering.wait(IDLE_SAMPLE):
            return False
        try:
            now = time.clock_gettime(clock)
        except OSError:  # the thread has ended
            return True
        quiet = quiet + 1 if now - used < IDLE_SHARE * IDLE_SAMPLE else 0
        used = now
    return True


def _template():
    with _lock:
        if "template" not in _loaded:
            import jinja2

            # PackageLoader reads the templates from the installed package (a wheel ships them as package data).
            environment = jinja2.Environment(loader=jinja2.PackageLoader("grader.report", "templates"),
                                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                                             lstrip_blocks=True)
            _loaded["template"] = environment.get_template(TEMPLATE)
        return _loaded["template"]


def _page(report: Report) -> dict:
    groups = _groups(report.checks)
    failed = [g for g in groups if not g[0].passed]
    counts = {s: sum(c.status == s for c in report.checks) for s in STATUS_KINDS}
    lines = _plain(report.captured_output).rstrip("\n").split("\n") if report.captured_output else []
    hidden = max(0, len(lines) - OUTPUT_TAIL_LINES)
    kept = lines[-OUTPUT_MAX_LINES:]
    whole = "\n".join(kept)[-OUTPUT_MAX_CHARS:]
    return {
        "id": _anchor(report.exercise),
        "exercise": _plain(report.exercise),
        "title": _plain(report.title),
        "submission": _plain(report.submission),
        "seed": report.seed,
        "device": _plain(report.device),
        "duration": f"{report.duration:.1f} s" if report.duration else "",
        "score": _total(report.score),
        "max_score": _total(report.max_score),
        "percent": round(100 * report.score / report.max_score) if report.max_score else 0,
        "all_passed": report.all_passed,
        "counts": [(s, n) for s, n in counts.items() if n],
        "checks": [_check_row(c, _block_index(c, failed)) for c in report.checks],
        "failed": [_block(g, every=len(g) == len(report.checks) > 1) for g in failed],
        "passed": [_block(g) for g in groups if g[0].passed],
        "notes": [_plain(n) for n in report.notes],
        "output_tail": "\n".join(lines[hidden:]),
        "output_hidden": hidden,
        "output_whole": whole if hidden else "",
        "output_whole_cut": len(lines) > len(kept) or len("\n".join(kept)) > OUTPUT_MAX_CHARS,
        "output_truncated": report.output_truncated,
        "limits": "; ".join(_plain(limit) for limit in report.limits),
    }


def _anchor(exercise: str) -> str:
    # Ids stay unique when several reports share one notebook page; only safe characters.
    return "cnn-" + "".join(ch if ch.isalnum() else "-" for ch in exercise)


def _block_index(check: CheckResult, failed: list[list[CheckResult]]) -> int | None:
    return next((i for i, group in enumerate(failed) if any(c is check for c in group)), None)


def _check_row(check: CheckResult, block: int | None) -> dict:
    return {"status": check.status, "points": f"{check.score:g}/{check.max_score:g}",
            "title": _plain(check.title), "block": block}


def _block(group: list[CheckResult], every: bool = False) -> Block:
    check = group[0]
    words = STATUS_KINDS[check.status].words
    score, total = sum(c.score for c in group), sum(c.max_score for c in group)
    if len(group) == 1:
        heading, titles = _plain(check.title), []
    else:
        heading = f"{'All ' if every else ''}{len(group)} checks {words} for the same reason"
        words = ""
        titles = [] if every else [_plain(c.title) for c in group]
    message = _plain(check.message)
    if message and len(group) > 1 and len({c.message for c in group}) > 1:
        message = "e.g. " + message
    return Block(status=check.status, heading=heading,
                 verdict=(f"{words}, " if words else "") + f"{score:g}/{total:g} points", titles=titles,
                 message=message, hint=_plain(check.hint),
                 pictures=[_picture(f) for f in check.figures], traceback=_plain(check.traceback).rstrip("\n"))


def _picture(figure: Figure) -> Picture:
    if isinstance(figure, Table):
        return Picture("table", _plain(figure.title), columns=tuple(_plain(c) for c in figure.columns),
                       rows=tuple(tuple(_plain(cell) for cell in row) for row in figure.rows))
    if not isinstance(figure, (*PICTURES, Heatmap)):
        return Picture("missing", f"(cannot draw a {type(figure).__name__})")
    from grader.report import png

    caption = _plain(getattr(figure, "caption", ""))
    legend = _heat_legend(figure) if isinstance(figure, Heatmap) else ""
    if isinstance(figure, (Heatmap, Maps)) and png.has_not_finite(figure):
        legend = "; ".join(filter(None, [legend, "magenta: NaN or infinite"]))
    try:
        if isinstance(figure, (Heatmap, Maps)):  # drawn in NumPy: no matplotlib for them
            panel = png.heat_panel(figure) if isinstance(figure, Heatmap) else png.maps_panel(figure)
            return Picture("panel", _plain(figure.title), caption=caption, legend=legend, panel=panel)
        from grader.report import plots

        src = png.data_uri(plots.picture(figure))
    except Exception as e:  # a picture that cannot be drawn must not cost the student the whole report
        return Picture("missing", _plain(figure.title), caption=caption,
                       legend=f"(this picture could not be drawn: {type(e).__name__}: {e})")
    return Picture("image", _plain(figure.title), caption=caption, src=src, legend=legend)


def _heat_legend(figure: Heatmap) -> str:
    finite = [v for row in figure.values for v in row if math.isfinite(v)]
    return (f"max |difference| = {max(finite, default=0.0):.3g} (tolerance {figure.tolerance:.3g}); "
            "grey: within tolerance, yellow to red: larger")
