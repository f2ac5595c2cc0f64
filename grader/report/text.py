"""The report for people: a rich rendering for the terminal, readable without color too."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from rich.color import Color
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.style import Style
from rich.table import Table as RichTable
from rich.text import Text

from grader.grading.results import PICTURES, STATUS_KINDS, CheckResult, Figure, Heatmap, MissingExercise, Report, Table

MARKS = {name: (kind.symbol, kind.colour) for name, kind in STATUS_KINDS.items()}
STATUS_WORDS = {name: kind.words for name, kind in STATUS_KINDS.items()}
OUTPUT_TAIL_LINES = 15
HEATMAP_MAX_WIDTH = 48
HEATMAP_MAX_HEIGHT = 32
INDENT = 2

HINT_STYLE = "italic cyan"
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Without color the heat map shades by glyph instead: within tolerance, then four sizes.
_PLAIN_WITHIN = "··"
_PLAIN_RAMP = ("░░", "▒▒", "▓▓", "██")


def print_report(report: Report, console: Console, *, verbose: bool = False) -> None:
    """Print one grading run: header, checks, details of what went wrong, output, score."""
    console.print(_header(report))
    console.print(_checks_table(report.checks))
    for group in _groups(report.checks):
        _print_check_details(group, console, verbose=verbose, every=len(group) == len(report.checks) > 1)
    if report.notes:
        console.print()
        for note in report.notes:
            console.print(Text.assemble("• ", _student(note)))
    _print_captured_output(report, console, verbose=verbose)
    if report.limits:
        console.print(Text("Limits: " + "; ".join(report.limits) + ".", style="dim"))
    console.print()
    console.print(_score_line(report))


def plain_text(report: Report, *, verbose: bool = False, width: int = 100) -> str:
    """The report as `cnn-grade EXERCISE` prints it, without colour or padding: for files and logs."""
    console = _plain_console(width)
    print_report(report, console, verbose=verbose)
    return _plain_lines(console)


def check_text(check: CheckResult, *, verbose: bool = False, width: int = 100, cli_advice: bool = True) -> str:
    """One check's block of the report (verdict, message, hint, tables, heat maps) as plain text.

    `cli_advice=False` leaves out advice that only a terminal user can follow ("run with -v").
    """
    console = _plain_console(width)
    _print_check_details([check], console, verbose=verbose, cli_advice=cli_advice)
    return _plain_lines(console).lstrip("\n")


def _plain_console(width: int) -> Console:
    import io

    return Console(file=io.StringIO(), width=width, no_color=True, highlight=False, soft_wrap=False,
                   force_terminal=False, color_system=None)


def _plain_lines(console: Console) -> str:
    return "".join(line.rstrip() + "\n" for line in console.file.getvalue().splitlines())  # rich pads table rows


def print_summary(reports: Iterable[Report], console: Console, missing: Iterable[MissingExercise] = ()) -> None:
    """Print one line per exercise (graded, or without a file) and the total, for `cnn-grade all`."""
    reports, missing = list(reports), list(missing)
    if not reports and not missing:
        console.print(Text("No exercises were graded."))
        return
    table = RichTable(show_edge=False, pad_edge=False)
    table.add_column("exercise", no_wrap=True)
    table.add_column("title")
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("max", justify="right", no_wrap=True)
    table.add_column("status")
    for report in reports:
        table.add_row(
            Text(report.exercise),
            _student(report.title),
            Text(_points(report.score)),
            Text(_points(report.max_score)),
            _summary_status(report),
        )
    for gap in missing:
        table.add_row(Text(gap.exercise), _student(gap.title), Text("0"), Text(_points(gap.max_score)),
                      Text(f"no file ({gap.path})", style="dim"))
    console.print(table)
    score = sum(r.score for r in reports)
    max_score = sum(r.max_score for r in reports) + sum(gap.max_score for gap in missing)
    complete = sum(r.all_passed for r in reports)
    console.print(
        Text(
            f"Total: {_total(score)} / {_total(max_score)}"
            f"  ({complete} of {len(reports) + len(missing)} exercises fully passed)",
            style="bold",
        )
    )


class TrimmedLines:
    """A text stream that drops the spaces rich pads lines with (tables fill the console's width).

    For output that is piped or redirected: a terminal never shows the padding, a file or a
    CI log keeps every space of it.
    """

    def __init__(self, stream) -> None:
        self.stream, self._line = stream, ""

    def write(self, text: str) -> int:
        lines = (self._line + text).split("\n")
        self._line = lines.pop()
        if lines:
            self.stream.write("".join(line.rstrip() + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self._line:
            self.stream.write(self._line)
            self._line = ""
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"


def _header(report: Report) -> Text:
    return Text.assemble(
        (report.exercise, "bold"),
        " · ",
        (_plain(report.title), "bold"),
        "\n",
        ("file ", "dim"),
        _plain(report.submission),
        ("  seed ", "dim"),
        str(report.seed),
        ("  device ", "dim"),
        _plain(report.device),
    )


def _checks_table(checks: Iterable[CheckResult]) -> RichTable:
    table = RichTable(show_header=False, show_edge=False, box=None, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column()
    for check in checks:
        table.add_row(
            _mark(check.status),
            Text(f"{_points(check.score)}/{_points(check.max_score)}"),
            _student(check.title),
        )
    return table


def _groups(checks: Iterable[CheckResult]) -> list[list[CheckResult]]:
    """Checks with something to say (failures, or a passing check's figures); one mistake told once.

    Failures that share a diagnosis (the same hint) are one block, whatever their inputs: a single
    misconception should read as one thing to fix, not as the same advice eight times.
    """
    groups: dict[tuple, list[CheckResult]] = {}
    for check in checks:
        if check.passed:
            if check.message or any(not isinstance(f, PICTURES) for f in check.figures):  # pictures: HTML only
                groups[(id(check),)] = [check]
            continue
        key = (check.status, check.hint) if check.hint else (check.status, check.message)
        groups.setdefault(key, []).append(check)
    return list(groups.values())


def _print_check_details(group: list[CheckResult], console: Console, *, verbose: bool, cli_advice: bool = True,
                         every: bool = False) -> None:
    check = group[0]
    mark, color = MARKS[check.status]
    console.print()
    if len(group) == 1:
        console.print(
            Text.assemble(
                (f"{mark} ", color),
                (_plain(check.title), "bold"),
                (f" — {STATUS_WORDS[check.status]}, ", color),
                f"{_points(check.score)}/{_points(check.max_score)} points",
            )
        )
    else:
        score, total = sum(c.score for c in group), sum(c.max_score for c in group)
        # Every check for one reason (the file does not load, has no code yet): the table above lists them.
        count = f"All {len(group)} checks" if every else f"{len(group)} checks"
        console.print(Text.assemble((f"{mark} ", color), (count, "bold"),
                                    (f" — {STATUS_WORDS[check.status]} for the same reason, ", color),
                                    f"{_points(score)}/{_points(total)} points" + ("" if every else ":")))
        for other in () if every else group:
            console.print(Padding(_student(f"· {other.title}"), (0, 0, 0, INDENT), expand=False))
    body: list[RenderableType] = []
    if check.message:
        body.append(_student(("e.g. " if len(group) > 1 and _differ(group) else "") + check.message))
    if check.hint:
        body.append(Text.assemble(("hint: ", f"bold {HINT_STYLE}"), (_plain(check.hint), HINT_STYLE)))
    for figure in check.figures:
        body.extend(_figure(figure, console.width - INDENT, plain=_is_plain(console)))
    if check.traceback and verbose:
        body.append(Text("traceback:", style="bold"))
        body.append(_student(check.traceback.rstrip("\n"), style="dim"))
    elif check.traceback and cli_advice:
        body.append(Text("(run with -v to see the traceback)", style="dim"))
    for item in body:
        console.print(Padding(item, (0, 0, 0, INDENT), expand=False))


def _differ(group: list[CheckResult]) -> bool:
    return len({c.message for c in group}) > 1


def _figure(figure: Figure, width: int, *, plain: bool) -> list[RenderableType]:
    if isinstance(figure, PICTURES):  # pictures are for the HTML report (--format html); the text says it all
        return []
    if isinstance(figure, Table):
        return [_table_figure(figure)]
    if isinstance(figure, Heatmap):
        return _heatmap(figure, width, plain=plain)
    return [Text(f"(cannot draw a {type(figure).__name__})", style="dim")]


def _table_figure(figure: Table) -> RichTable:
    # Cells may echo student values, so every cell is Text, never markup.
    table = RichTable(title=_student(figure.title), title_justify="left", title_style="bold")
    for column in figure.columns:
        table.add_column(_student(column))
    for row in figure.rows:
        table.add_row(*(_student(cell) for cell in row))
    return table


def _heatmap(figure: Heatmap, width: int, *, plain: bool) -> list[RenderableType]:
    rows = figure.values
    height = len(rows)
    cols = max((len(row) for row in rows), default=0)
    finite = [v for row in rows for v in row if math.isfinite(v)]
    not_finite = sum(len(row) for row in rows) - len(finite)
    vmax = max(finite, default=0.0)

    title = Text.assemble((_plain(figure.title), "bold"), (f"  ({height}×{cols})", "dim"))
    legend = f"max |diff| = {vmax:.3g}  (tolerance {figure.tolerance:.3g})"
    if not_finite:
        legend += f"; {not_finite} cells are NaN or infinite"

    # Each cell is two characters, so the screen width limits the map too.
    max_cols = min(HEATMAP_MAX_WIDTH, width // 2)
    if cols > max_cols or height > HEATMAP_MAX_HEIGHT or height == 0:
        reason = "empty" if height == 0 else f"too large to draw, limit {max_cols}×{HEATMAP_MAX_HEIGHT}"
        return [title, Text(f"({reason})  {legend}", style="dim")]

    grid = Text(no_wrap=True, overflow="crop")
    for i, row in enumerate(rows):
        if i:
            grid.append("\n")
        for value in row:
            grid.append(*_heat_cell(value, figure.tolerance, vmax, plain=plain))
    if plain:
        key = f"{_PLAIN_WITHIN} within tolerance, {''.join(g[0] for g in _PLAIN_RAMP)} larger"
    else:
        key = "dim: within tolerance, yellow to red: larger"
    return [title, grid, Text(f"{legend}  ·  {key}", style="dim")]


def _heat_cell(value: float, tolerance: float, vmax: float, *, plain: bool) -> tuple[str, Style]:
    if math.isfinite(value) and value <= tolerance:
        return (_PLAIN_WITHIN if plain else "██"), Style(color="green", dim=True)
    # NaN and infinity are as wrong as it gets: draw them at the top of the scale.
    share = min(value / vmax, 1.0) if math.isfinite(value) and vmax > 0 else 1.0
    green = round(220 * (1.0 - share))  # yellow (255, 220, 0) fading to red (255, 0, 0)
    style = Style(color=Color.from_rgb(255, green, 0))
    if plain:
        step = min(int(share * len(_PLAIN_RAMP)), len(_PLAIN_RAMP) - 1)
        return _PLAIN_RAMP[step], style
    return "██", style


def _print_captured_output(report: Report, console: Console, *, verbose: bool) -> None:
    if not report.captured_output:
        return
    lines = _plain(report.captured_output).rstrip("\n").split("\n")
    console.print()
    title = "Output of your code" + (" (truncated)" if report.output_truncated else "")
    console.rule(Text(title, style="bold"), align="left")
    hidden = 0 if verbose else max(0, len(lines) - OUTPUT_TAIL_LINES)
    if hidden:
        word = "line" if hidden == 1 else "lines"
        console.print(Text(f"… {hidden} earlier {word} hidden, -v shows all", style="dim"))
    console.print(Text("\n".join(lines[hidden:])))
    if report.output_truncated:
        console.print(Text("(truncated: your code printed more than was kept)", style="dim"))


def _score_line(report: Report) -> Text:
    line = Text(f"Score: {_total(report.score)} / {_total(report.max_score)}", style="bold")
    if report.all_passed:
        line.append("  all checks passed", style="bold green")
    return line


def _summary_status(report: Report) -> Text:
    if report.all_passed:
        return _mark("passed") + Text(" all passed", style="green")
    counts = {s: sum(c.status == s for c in report.checks) for s in STATUS_KINDS if s != "passed"}
    worst = next((s for s in ("crashed", "memory", "error", "timeout", "failed") if counts.get(s)), "failed")
    parts = [f"{n} {STATUS_WORDS[s]}" for s, n in counts.items() if n] or ["no checks"]
    return _mark(worst) + Text(" " + ", ".join(parts), style=MARKS[worst][1])


def _mark(status: str) -> Text:
    mark, color = MARKS[status]
    return Text(mark, style=f"bold {color}")


def _student(text: str, style: str = "") -> Text:
    # Text is never parsed as markup, so "[red]" or "[/]" from a student shows as typed.
    return Text(_plain(text), style=style)


def _plain(text: str) -> str:
    # Terminal escapes would restyle or clear the grader's terminal; a carriage return
    # (progress bars) means the line was redrawn, so keep only what was drawn last.
    text = _ANSI.sub("", text.replace("\r\n", "\n"))
    text = "\n".join(_last_drawn(line) for line in text.split("\n"))
    return _CONTROL.sub("", text)


def _last_drawn(line: str) -> str:
    drawn = [part for part in line.split("\r") if part]
    return drawn[-1] if drawn else ""


def _is_plain(console: Console) -> bool:
    return console.no_color or console.color_system is None


def _points(value: float) -> str:
    return f"{value:g}"


def _total(value: float) -> str:
    # One decimal like "12.0", unless that would hide a finer score such as 0.25.
    return f"{value:.1f}" if round(value, 1) == value else f"{value:.2f}"
