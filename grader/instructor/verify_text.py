"""Showing `cnn-grade verify`: a progress bar while it grades, then a table per exercise and what it missed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar
from rich.table import Table
from rich.text import Text

from .misconceptions import MisconceptionRun
from .verify import ExerciseVerification, Progress, VerifyResult


def print_verify(result: VerifyResult, console: Console) -> None:
    """Print a table per exercise (keys, stub, mutants and misconceptions caught), then survivors and misses."""
    for ex in result.exercises:
        console.print(Text.assemble((ex.exercise, "bold"), " · ", (ex.title, "bold")))
        table = Table(show_header=False, show_edge=False, box=None, padding=(0, 1))
        for label, good, text in _rows(ex):
            mark = ("  ", "") if good is None else ("✓ ", "green") if good else ("✗ ", "red")
            table.add_row(Text(mark[0], style=mark[1]), Text(label, style="dim" if good is None else ""), Text(text))
        console.print(table)
        for note in ex.notes:
            console.print(Text(f"  • {note}", style="yellow"))
        if ex.survivors:
            console.print(Text(f"  surviving mutants ({len(ex.survivors)}): the checks cannot tell these from the key",
                               style="bold"))
            for mutant in ex.survivors:
                console.print(Text.assemble("    ", mutant.description, (f"  [{mutant.operator}]", "dim")))
        if ex.missed_misconceptions:
            console.print(Text(f"  missed misconceptions ({len(ex.missed_misconceptions)}): not caught, or not named "
                               "in the feedback", style="bold"))
            for run in ex.missed_misconceptions:
                console.print(Text.assemble("    ", (run.misconception.id, "bold"), f": {_verdict(run)}",
                                            (f"  ({run.misconception.description})", "dim")))
        console.print()
    bad = [ex.exercise for ex in result.exercises if not ex.ok]
    timing = f"{result.duration:.0f} s with {result.workers} worker{'s' if result.workers > 1 else ''}"
    if bad:
        console.print(Text(f"✗ Not verified: {', '.join(bad)} (a key lost points or a stub did not score a clean "
                           f"zero). {timing}.", style="bold red"))
    else:
        console.print(Text(f"✓ Every key scores full marks and every stub a clean zero. {timing}.",
                           style="bold green"))


@contextmanager
def progress_bar(console: Console) -> Iterator[Progress | None]:
    """A rich progress bar over the grading runs, gone when they finish; yields verify's `progress` callback."""
    if not console.is_terminal:  # a log or a pipe gets the report only
        yield None
        return
    with Bar(TextColumn("verify"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             TextColumn("[dim]{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("starting", total=None)
        yield lambda label, done, total: bar.update(task, description=label, completed=done, total=total)


def _rows(ex: ExerciseVerification) -> list[tuple[str, bool | None, str]]:
    """(label, verdict or None for information, text) for one exercise's table."""
    rows = []
    for label in dict.fromkeys(run.label for run in ex.keys):
        runs = [run for run in ex.keys if run.label == label]
        seeds = ", ".join(str(run.seed) for run in runs)
        if all(run.full_marks for run in runs):
            at = "seeds" if len(runs) > 1 else "seed"
            rows.append((label, True, f"{_points(runs[0].max_score)}/{_points(runs[0].max_score)} at {at} {seeds}"))
        for run in runs:
            if not run.full_marks:
                rows.append((label, False, f"{_points(run.score)}/{_points(run.max_score)} at seed {run.seed}: "
                                           + _missed(run.missed)))
    stub = ex.stub
    if ex.stub_ok:
        rows.append(("stub", True, f"0/{_points(stub.max_score)}, every check fails"))
    else:
        passed = stub.checks - len(stub.missed)
        wrong = [m for m in stub.missed if m[1] != "failed"]
        problems = ([f"{passed} check(s) pass"] if passed else []) + ([_missed(wrong)] if wrong else [])
        rows.append(("stub", False, f"{_points(stub.score)}/{_points(stub.max_score)}: " + "; ".join(problems)))
    if ex.checks is not None:
        rows.append(("checks kept", None, ", ".join(ex.checks)))
    if ex.share is None:
        rows.append(("mutants", None, f"none graded ({ex.candidates} possible)"))
    else:
        rows.append(("mutants", None, f"{ex.caught} of {len(ex.mutants)} caught ({ex.share:.0%}), "
                                      f"sampled from {ex.candidates}"))
        if ex.catches:
            rows.append(("caught most", None, " · ".join(f"{name} {count}" for name, count in ex.catches[:4])))
    graded = ex.graded_misconceptions
    if graded:
        caught, named = sum(run.caught for run in graded), sum(run.named for run in graded)
        rows.append(("misconceptions", None, f"{caught} of {len(graded)} caught ({ex.misconception_caught_share:.0%}), "
                                             f"{named} named in the feedback ({ex.misconception_named_share:.0%})"))
    skipped = [run for run in ex.misconceptions if not run.applicable]
    if skipped:  # a course's own key: listed so that a silent drop in coverage shows
        rows.append(("not applicable", None, "; ".join(f"{run.misconception.id}: {run.reason}" for run in skipped)))
    return rows


def _verdict(run: MisconceptionRun, shown: int = 3) -> str:
    """Why a misconception mutant is listed as missed."""
    if not run.caught:
        return "not caught: every check passes"
    checks = ", ".join(run.caught_by[:shown]) + (f" and {len(run.caught_by) - shown} more"
                                                   if len(run.caught_by) > shown else "")
    words = " + ".join(f"'{word}'" for word in run.misconception.named_by)
    return f"caught by {checks}, but the feedback never says {words}"


def _missed(missed: tuple[tuple[str, str, str], ...], shown: int = 2) -> str:
    text = "; ".join(f"{name} {status}: {message}" for name, status, message in missed[:shown])
    return text + (f"; and {len(missed) - shown} more" if len(missed) > shown else "")


def _points(value: float) -> str:
    return f"{value:g}"
