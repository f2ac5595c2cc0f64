"""`cnn-grade class-report`: one self-contained HTML page about a whole class, from its gradebook.

Score histograms and pass rates per check, the class's misconceptions ranked by how many students they
hit, groups of students whose failed checks returned identical wrong values (a signal, never a verdict),
and a link to every student's feedback. Plots are drawn with matplotlib's Agg canvas, imported only here.
"""

from __future__ import annotations

import base64
import io
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .gradebook import JSON_NAME, Cell, Gradebook
from ..errors import ToolError
from ..files import write_atomic
from ..instructor.misconceptions import TABLE

REPORT_NAME = "class.html"
MAX_NAMES = 30  # students named in one line of text before "and N more"
# Diagnoses that say what stopped a check, not what the student misunderstood: shown apart, never ranked.
NOT_JUDGED = {**{status: f"code that {words}" for status, words in (
    ("error", "raised an error"), ("timeout", "ran out of time"), ("memory", "ran out of memory"),
    ("crashed", "crashed"))}, "not_implemented": "not implemented yet", "no_code": "no code yet",
    "cannot_load": "a file that could not be loaded"}
NAMED = {(exercise, m.id): m.description for exercise, mistakes in TABLE.items() for m in mistakes}


@dataclass
class Misconception:
    """One diagnosis on one exercise and the students it hit."""

    exercise: str
    diagnosis: str
    description: str  # the misconception table's words, or "" for a diagnosis it does not list
    # (unnamed failures of several checks merged into one entry have the checks' names, comma-separated)
    hint: str = ""  # a failing check's hint, the text shown when there is no description
    unnamed: bool = False  # no mistake named: the checks' own verdict that the behaviour is wrong
    checks: set[str] = field(default_factory=set)
    students: set[str] = field(default_factory=set)


@dataclass
class Identical:
    """Students whose code returned the same wrong values in the same failed checks of one exercise."""

    exercise: str
    students: tuple[str, ...]
    checks: list[str] = field(default_factory=list)


def class_report(gradebook: Path, *, out: Path | None = None) -> Path:
    """Write the class report of a gradebook folder (or its grades.json) to OUT (default: FOLDER/class.html)."""
    folder = Path(gradebook).expanduser()
    if folder.name == JSON_NAME and folder.is_file():
        folder = folder.parent
    try:
        book = Gradebook.load(folder)
    except FileNotFoundError:
        raise ToolError(f"No gradebook in {folder}: run `cnn-grade batch SUBMISSIONS --out {folder}` first.") from None
    target = Path(out).expanduser() if out is not None else folder / REPORT_NAME
    if target.is_dir():
        target = target / REPORT_NAME
    write_atomic(target, render(book, target.resolve().parent))
    return target


def render(book: Gradebook, page_folder: Path) -> str:
    """The class report's HTML; links to feedback are relative to `page_folder`, where the page will live."""
    from importlib import resources

    from jinja2 import Environment, StrictUndefined

    exercises = book.exercises()
    students = book.students()
    links = {(s, ex): _feedback_link(book.out, page_folder, s, ex) for s in students for ex in book.cells[s]}
    misconceptions, not_judged = _misconceptions(book)
    template = (resources.files("grader.classroom") / "templates" / "class.html.j2").read_text(encoding="utf-8")
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(
        submissions=str(book.submissions), students=students, exercises=[_exercise(book, ex) for ex in exercises],
        misconceptions=misconceptions, not_judged=not_judged, identical=_identical(book), links=links,
        cells=book.cells, totals={s: book.total(s) for s in students}, max_scores=book.max_scores,
        older=_older_cells(book), points=lambda v: f"{v:g}", names=_names)


def _names(who: list[str]) -> str:
    """Students as a comma-separated list, cut short for a large class (the table below lists everyone)."""
    shown = ", ".join(who[:MAX_NAMES])
    return shown + (f" and {len(who) - MAX_NAMES} more" if len(who) > MAX_NAMES else "")


def _feedback_link(book_folder: Path, page_folder: Path, student: str, exercise: str) -> str:
    """A relative URL to the student's HTML feedback, else their text feedback; "" when there is neither."""
    for suffix in (".html", ".txt"):
        path = book_folder / "feedback" / student / f"{exercise}{suffix}"
        if path.is_file():
            try:
                relative = os.path.relpath(path.resolve(), page_folder)
            except ValueError:  # another drive (Windows): no relative path exists
                return path.resolve().as_uri()
            return "/".join(quote(part) for part in Path(relative).parts)
    return ""


def _graded(book: Gradebook, exercise: str) -> list[tuple[str, Cell]]:
    return [(s, book.cells[s][exercise]) for s in book.students()
            if exercise in book.cells[s] and book.cells[s][exercise].status == "ok"]


def _exercise(book: Gradebook, exercise: str) -> dict:
    """What the page shows of one exercise: counts, pass rates per check and the two pictures."""
    graded = _graded(book, exercise)
    top = book.max_scores.get(exercise)
    statuses = defaultdict(list)
    for student in book.students():
        cell = book.cells[student].get(exercise)
        if cell is not None and cell.status != "ok":
            statuses[cell.status].append(student)
    checks: dict[str, list[int]] = {}  # check -> [passed, graded], in the order the checks ran
    for _, cell in graded:
        for name, status in cell.checks.items():
            counts = checks.setdefault(name, [0, 0])
            counts[0] += status == "passed"
            counts[1] += 1
    titles = _titles(exercise)
    scores = [cell.score for _, cell in graded]
    rates = [(name, titles.get(name, ""), passed, total) for name, (passed, total) in checks.items()]
    mean = sum(scores) / len(scores) if scores else None
    return {"name": exercise, "max_score": top, "graded": len(graded), "mean": mean, "statuses": dict(statuses),
            "full": sum(top is not None and s == top for s in scores), "rates": rates,
            "histogram": _histogram(exercise, scores, top) if scores else "",
            "bars": _pass_bars(exercise, rates) if rates else ""}


def _titles(exercise: str) -> dict[str, str]:
    """Each check's title, or nothing when this version of the grader does not know the exercise."""
    try:
        from ..grading.exercises import resolve

        return {spec.name: spec.title for spec in resolve(exercise).checks()}
    except Exception:  # noqa: BLE001 - a gradebook from another version: names alone still read
        return {}


def _misconceptions(book: Gradebook) -> tuple[list[Misconception], dict[str, dict[str, list[str]]]]:
    """The diagnoses ranked by students hit (most first), and per exercise what stopped checks being judged."""
    found: dict[tuple[str, str], Misconception] = {}
    not_judged: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for exercise in book.exercises():
        for student, cell in _graded(book, exercise):
            for check, diagnosis in cell.diagnoses.items():
                if diagnosis in NOT_JUDGED:
                    not_judged[exercise][diagnosis].add(student)
                    continue
                entry = found.setdefault((exercise, diagnosis), Misconception(
                    exercise, diagnosis, NAMED.get((exercise, diagnosis), "")))
                entry.checks.add(check)
                entry.students.add(student)
                entry.hint = entry.hint or cell.hints.get(check, "")
    order = {ex: i for i, ex in enumerate(book.exercises())}
    ranked = sorted(_merged(found.values()), key=lambda m: (-len(m.students), order[m.exercise], m.diagnosis))
    for entry in ranked:
        entry.students = sorted(entry.students, key=lambda s: (s.casefold(), s))
    lines = {ex: {NOT_JUDGED[d]: sorted(who, key=lambda s: (s.casefold(), s)) for d, who in sorted(ids.items())}
             for ex, ids in not_judged.items()}
    return ranked, lines


def _merged(entries) -> list[Misconception]:
    """One entry for the unnamed failures (diagnosis: the check's name) of the same students with the same hint.

    A wrong computation usually fails several checks at once; listing each check apart would push the
    named misconceptions down the ranking with copies of one finding.
    """
    kept, unnamed = [], {}
    for entry in entries:
        if entry.description or entry.checks != {entry.diagnosis}:
            kept.append(entry)
            continue
        entry.unnamed = True
        key = (entry.exercise, frozenset(entry.students), entry.hint)
        if key in unnamed:
            unnamed[key].checks |= entry.checks
        else:
            unnamed[key] = entry
    for entry in unnamed.values():
        entry.diagnosis = ", ".join(sorted(entry.checks))
    return kept + list(unnamed.values())


def _identical(book: Gradebook) -> list[Identical]:
    """Students sharing a non-empty fingerprint on the same exercise, check and seed, grouped by who shares.

    Only failures that named no mistake count (diagnosis: the check's own name): students who make a
    known mistake (a misconception of the table, or another a check recognised) return equal values
    without having shared any work, and a check that was not judged says nothing of the values.
    """
    sharing: dict[tuple[str, str, int | None, str], set[str]] = defaultdict(set)
    for exercise in book.exercises():
        for student, cell in _graded(book, exercise):
            for check, fingerprint in cell.fingerprints.items():
                if fingerprint and cell.diagnoses.get(check, check) == check:
                    sharing[(exercise, check, cell.seed, fingerprint)].add(student)
    groups: dict[tuple[str, tuple[str, ...]], Identical] = {}
    for (exercise, check, _, _), who in sharing.items():
        if len(who) >= 2:
            names = tuple(sorted(who, key=lambda s: (s.casefold(), s)))
            groups.setdefault((exercise, names), Identical(exercise, names)).checks.append(check)
    order = {ex: i for i, ex in enumerate(book.exercises())}
    return sorted(groups.values(), key=lambda g: (-len(g.checks), order[g.exercise], g.students))


def _older_cells(book: Gradebook) -> int:
    """Graded cells with failed checks but no diagnoses: written before the gradebook kept them."""
    return sum(c.status == "ok" and not c.diagnoses and any(v != "passed" for v in c.checks.values())
               for row in book.cells.values() for c in row.values())


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # the Agg canvas, without pyplot's global state

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _histogram(exercise: str, scores: list[float], top: float | None) -> str:
    """How many students got each score, as a PNG data URI."""
    from matplotlib.ticker import MaxNLocator

    high = max([top or 0.0, *scores])
    width = 1.0 if high <= 40 else high / 20  # one bar per point, unless the maximum is large
    edges = [-width / 2 + i * width for i in range(int(high / width) + 2)]
    figure = _figure(5.0, 2.6)
    axes = figure.subplots()
    axes.hist(scores, bins=edges, color="#3b6ea5", edgecolor="white")
    axes.set_xlabel(f"score{f' (out of {top:g})' if top else ''}")
    axes.set_ylabel("students")
    axes.set_title(f"{exercise}: scores of {len(scores)} graded")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def _pass_bars(exercise: str, rates: list[tuple[str, str, int, int]]) -> str:
    """The share of graded students who passed each check, one horizontal bar per check, as a PNG data URI."""
    figure = _figure(5.0, 0.9 + 0.26 * len(rates))
    axes = figure.subplots()
    names = [name for name, *_ in rates][::-1]  # the first check on top
    shares = [100 * passed / total for _, _, passed, total in rates][::-1]
    colours = ["#2e8b57" if s >= 80 else "#d08c00" if s >= 50 else "#c0392b" for s in shares]
    axes.barh(names, shares, color=colours)
    for y, share in enumerate(shares):  # the number inside a long bar, beside a short one
        inside = share >= 85
        axes.text(share - 1 if inside else share + 1, y, f"{share:.0f}%", va="center", fontsize=8,
                  ha="right" if inside else "left", color="white" if inside else "black")
    axes.set_xlim(0, 100)
    axes.set_xlabel("students who passed (%)")
    axes.set_title(f"{exercise}: pass rate per check")
    axes.tick_params(axis="y", labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)
