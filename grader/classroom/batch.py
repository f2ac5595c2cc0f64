"""`cnn-grade batch`: grade a folder of students (one sub-folder each) into a gradebook, in parallel.

Planning happens here, without torch: which students, which exercises, which cells an earlier run
already holds (same file, same seed). Before any grading, every cell to grade is saved as `pending`, so
an interrupted batch leaves each student a row and tells a file not yet graded from one never handed
in. Grading happens in grader.classroom.batch_pool's workers. Every finished task is written to the
gradebook at once, so an interrupted batch loses only the tasks in flight and a re-run (without
--force: a forced run already replaced what it will grade with pending cells) picks up where it stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from .batch_worker import HTML_NOTE
from .batch_pool import Task, default_workers, grade_in_workers, sigterm_as_interrupt
from ..grading.engine import resolve_seed
from ..errors import ToolError
from ..grading.exercises import Exercise, all_exercises, resolve
from .shards import Shard
from .gradebook import Cell, Gradebook, locked, now
from ..grading.limits import DEFAULT as LIMITS, Limits
from ..files import write_atomic
from ..grading.submission import SUFFIXES, find_in

MAX_ERRORS_SHOWN = 20


@dataclass(frozen=True)
class StudentRow:
    """One student's cells, in exercise order, and total."""

    name: str
    cells: tuple[tuple[str, Cell], ...]
    total: float


@dataclass(frozen=True)
class BatchResult:
    """What a batch run did and the gradebook it left."""

    submissions: Path
    out: Path
    exercises: tuple[str, ...]
    max_scores: tuple[tuple[str, float | None], ...]
    rows: tuple[StudentRow, ...]
    graded: int  # cells graded by this run
    kept: int  # cells kept from an earlier run: same file, same seed
    retry: int  # cells this run could not grade (a worker died, the grader's setup failed): tried again next run
    workers: int
    duration: float
    pending: int = 0  # cells still pending: exercises an earlier, interrupted run left and this one did not grade

    @property
    def complete(self) -> bool:
        """True when every cell holds a grade, a missing file or a problem of the submission itself."""
        return self.retry == 0 and self.pending == 0


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the batch; `advice` says how to resume it (the gradebook keeps what was graded)."""

    def __init__(self, advice: str):
        super().__init__(advice)
        self.advice = advice


def resume_advice(force: bool, pending: int = 0) -> str:
    """What to print after an interrupted batch: the command that resumes it (`force`: that of a forced run)."""
    left = f" and marks {pending} cell{'s' * (pending != 1)} pending" if pending else ""
    if force:
        # A forced run saved every cell it re-grades as pending before grading: a plain run grades exactly
        # those and keeps what the forced run already graded, where --force would start over.
        return (f"Interrupted: the gradebook keeps what this forced run graded{left}; run the same command "
                f"again without --force to resume (with --force it would grade everything again).")
    return f"Interrupted: the gradebook keeps what was graded{left}; run the same command again to resume."


def student_folders(submissions: Path) -> list[Path]:
    """Each immediate sub-folder is a student; hidden ones (".git", "__MACOSX") and loose files are not."""
    folders = [p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    return sorted(folders, key=lambda p: (p.name.casefold(), p.name))


def exercise_file(exercise: Exercise, folder: Path) -> Path | None:
    """The student's file for `exercise`, in their folder or its exercises/ (a whole course folder handed in)."""
    return find_in(exercise, folder) or find_in(exercise, folder / "exercises")


def _present(exercise: Exercise, folder: Path) -> bool:
    return any((place / f"{exercise.name}{suffix}").is_file()
               for place in (folder, folder / "exercises") for suffix in SUFFIXES)


def _check_folders(submissions: Path, out: Path | None, shard: Shard | None = None) -> tuple[Path, Path]:
    submissions = _submissions_folder(submissions)
    # Shards run side by side on one machine too: each has its own default gradebook.
    default = f"gradebook-{shard.index}-of-{shard.count}" if shard else "gradebook"
    out = (Path(out).expanduser() if out is not None else submissions.parent / default).resolve()
    # Inside the submissions folder the gradebook would be read as a student next time, and sit
    # among files students control: keep the two apart.
    if out == submissions or submissions in out.parents:
        raise ToolError(f"--out {out} is inside the submissions folder {submissions}: choose a folder outside it.")
    if out.exists() and not out.is_dir():
        raise ToolError(f"--out {out} is a file, not a folder.")
    return submissions, out


def _make_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ToolError(f"Cannot create {out}: {e.strerror or e}") from None
    if not os.access(out, os.W_OK):
        raise ToolError(f"Cannot write in {out}: choose another --out.")


def _choose_exercises(names, folders: list[Path]) -> list[Exercise]:
    if names:
        chosen = {resolve(n).name: resolve(n) for n in names}
        return sorted(chosen.values(), key=lambda ex: ex.number)
    return [ex for ex in all_exercises() if any(_present(ex, f) for f in folders)]


def grade_batch(submissions: Path, *, out: Path | None = None, workers: int | None = None,
                exercises=None, force: bool = False, seed: int | None = None, timeout: float = LIMITS.timeout,
                console: Console | None = None, shard: Shard | None = None) -> BatchResult:
    """Grade every student's exercise files into OUT/grades.json, grades.csv and feedback/; progress on console.

    With `shard`, only that shard's students (see shards.py). Ctrl-C or SIGTERM raises BatchInterrupted,
    whose advice says how to resume.
    """
    try:
        with sigterm_as_interrupt():
            return _grade_batch(submissions, out, workers, exercises, force, seed, timeout, console, shard)
    except BatchInterrupted:
        raise
    except KeyboardInterrupt:  # before the gradebook changed: the same command does it all
        raise BatchInterrupted(resume_advice(False)) from None


def shard_students(submissions: Path, shard: Shard) -> list[str]:
    """The students (folder names) a shard grades, for `batch --shard I/N --list`."""
    return [f.name for f in student_folders(_submissions_folder(submissions)) if shard.holds(f.name)]


def _submissions_folder(submissions: Path) -> Path:
    submissions = Path(submissions).expanduser()
    if not submissions.is_dir():
        raise ToolError(f"Not a folder: {submissions}" if submissions.exists() else f"No such folder: {submissions}")
    return submissions.resolve()


def _grade_batch(submissions, out, workers, exercises, force, seed, timeout, console, shard) -> BatchResult:
    started = time.perf_counter()
    Limits(timeout=timeout)  # out of range: a ToolError before anything starts
    submissions, out = _check_folders(submissions, out, shard)
    everyone = student_folders(submissions)
    if not everyone:
        raise ToolError(f"{submissions} holds no student folders (one sub-folder per student).")
    # Exercises are chosen from the whole class, so that every shard grades the same ones.
    chosen = _choose_exercises(exercises, everyone)
    if not chosen:
        names = ", ".join(f"{ex.name}.py" for ex in all_exercises())
        raise ToolError(f"No student folder in {submissions} holds an exercise file ({names} or .ipynb).")
    folders = [f for f in everyone if shard is None or shard.holds(f.name)]
    _make_out(out)
    with locked(out):
        book = Gradebook.open(out, submissions, str(shard) if shard else None)
        book.roster = [f.name for f in everyone]  # merge names the students no shard graded
        tasks, hashes, kept = _plan(book, folders, chosen, force=force, seed=seed, timeout=timeout)
        book.save()
        try:
            size = min(workers or default_workers(), len(tasks))
            retry = _run(tasks, hashes, book, size, [ex.name for ex in chosen], console) if tasks else 0
            _fill_max_scores(book, chosen)
            book.save()
        except KeyboardInterrupt:  # every finished cell is saved, and what is left is saved as pending
            raise BatchInterrupted(resume_advice(force, book.count("pending"))) from None
    return _result(book, submissions, out, len(tasks), kept, retry, size, time.perf_counter() - started)


def _plan(book: Gradebook, folders: list[Path], chosen: list[Exercise], *, force: bool, seed: int | None,
          timeout: float) -> tuple[list[Task], dict[int, tuple[str, str]], int]:
    """Record what needs no grading (missing, unreadable, unchanged) and mark the rest pending; return the tasks,
    their files and the kept count."""
    tasks, hashes, kept = [], {}, 0
    for folder in folders:
        for ex in chosen:
            exercise_seed = resolve_seed(ex.default_seed, seed)
            feedback = book.out / "feedback" / folder.name / f"{ex.name}.txt"
            cell, rel, sha = _examine(ex, folder, book.submissions)
            old = book.get(folder.name, ex.name)
            if cell is not None:  # nothing to grade: record what was found and tell the student
                if old is None or (old.status, old.message, old.file) != (cell.status, cell.message, cell.file):
                    book.put(folder.name, ex.name, cell)
                    write_atomic(feedback, f"{ex.name}: {cell.message}\n")
                    with contextlib.suppress(OSError):  # an older page would show the grade of a file now gone
                        feedback.with_suffix(".html").unlink(missing_ok=True)
                continue
            unchanged = old is not None and old.final and (old.sha256, old.seed, old.file) == (sha, exercise_seed, rel)
            if unchanged and not force:
                kept += 1
                continue
            task = Task(len(tasks), folder.name, ex.name, rel, str(feedback), exercise_seed, float(timeout))
            tasks.append(task)
            # Pending, not the old grade: an interrupted run must not show a grade of another file or seed,
            # nor leave a forced run's old grades looking final (a plain re-run would keep them).
            max_score = book.max_scores.get(ex.name, old.max_score if old else None)
            book.put(folder.name, ex.name, Cell("pending", 0.0, max_score, rel, None, exercise_seed,
                                                message=f"{rel} was handed in but is not graded yet."))
            hashes[task.id] = (rel, sha)
    return tasks, hashes, kept


def _examine(ex: Exercise, folder: Path, submissions: Path) -> tuple[Cell | None, str, str]:
    """(a cell, "", "") when there is nothing to grade, else (None, the file to grade, its sha256)."""
    try:
        path = exercise_file(ex, folder)
    except ToolError:  # find_in's only complaint: both files were edited
        message = f"both {ex.name}.py and {ex.name}.ipynb differ from the released stub: hand in only one."
        return Cell("error", message=message, graded_at=now()), "", ""
    if path is None:
        return Cell("missing", message=f"no {ex.name}.py or {ex.name}.ipynb was handed in.", graded_at=now()), "", ""
    rel = str(path.relative_to(submissions))
    if path.is_symlink():  # it could point at any file of the grading machine
        return Cell("error", file=rel, message=f"{rel} is a symbolic link; only regular files are graded.",
                    graded_at=now()), "", ""
    try:
        return None, rel, hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as e:
        return Cell("error", file=rel, message=f"cannot read {rel}: {e.strerror or e}", graded_at=now()), "", ""


def _run(tasks: list[Task], hashes: dict, book: Gradebook, size: int, exercises: list[str],
         console: Console | None) -> int:
    """Grade the tasks, saving the gradebook after each; return how many must be graded again."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    retry, in_flight = 0, {}
    label = TextColumn("{task.description}", table_column=Column(width=44, no_wrap=True, overflow="ellipsis"))
    progress = Progress(label, BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=console, disable=console is None or not console.is_terminal)
    bar = progress.add_task("starting workers", total=len(tasks))

    def describe() -> None:
        shown = sorted(in_flight.values())
        text = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
        progress.update(bar, description=f"grading {text}" if text else "grading")

    def started(task: Task) -> None:
        in_flight[task.id] = f"{task.student}/{task.exercise}"
        describe()

    def ready(hello: dict) -> None:
        for name, points in hello.get("max_scores", {}).items():
            book.max_scores[name] = float(points)
        book.fill_max_scores()  # pending cells too say "out of", should the run be interrupted

    replies = grade_in_workers(tasks, workers=size, exercises=exercises, cwd=str(book.submissions), tag=str(book.out),
                               on_ready=ready, on_start=started)
    with progress, contextlib.closing(replies):
        for task, reply in replies:
            rel, sha = hashes[task.id]
            cell = _cell(reply, rel, sha, task.seed, book.max_scores.get(task.exercise))
            retry += reply.get("retry") is True
            book.put(task.student, task.exercise, cell)
            book.save()
            in_flight.pop(task.id, None)
            describe()
            progress.advance(bar)
    return retry


def _cell(reply: dict, rel: str, sha: str, seed: int, max_score: float | None) -> Cell:
    duration = float(reply.get("duration") or 0.0)
    if reply.get("status") == "ok":
        return Cell("ok", float(reply["score"]), float(reply["max_score"]), rel, sha, int(reply["seed"]),
                    _names(reply.get("checks")), str(reply.get("note") or ""), duration, now(),
                    _names(reply.get("diagnoses")), _names(reply.get("fingerprints")), _names(reply.get("hints")))
    # sha256 None marks a failure of the grader rather than of the file: the next run grades it again.
    final = reply.get("retry") is not True
    return Cell("error", 0.0, max_score, rel, sha if final else None, seed, {}, str(reply.get("message", "")),
                duration, now())


def _names(table) -> dict[str, str]:
    return {str(k): str(v) for k, v in (table or {}).items()}


def _fill_max_scores(book: Gradebook, chosen: list[Exercise]) -> None:
    """Give missing and error cells their exercise's maximum, so totals can be read as "out of"."""
    for ex in chosen:
        if ex.name not in book.max_scores:  # no worker ran this time, and none before: ask the checks
            book.max_scores[ex.name] = float(sum(s.points for s in ex.checks()))
    book.fill_max_scores()


def _result(book: Gradebook, submissions: Path, out: Path, graded: int, kept: int, retry: int, workers: int,
            duration: float) -> BatchResult:
    names = book.exercises()
    rows = tuple(StudentRow(s, tuple((ex, book.cells[s][ex]) for ex in names if ex in book.cells[s]), book.total(s))
                 for s in book.students())
    return BatchResult(submissions, out, tuple(names), tuple((ex, book.max_scores.get(ex)) for ex in names), rows,
                       graded, kept, retry, workers, duration, book.count("pending"))


def print_batch(result: BatchResult, console: Console) -> None:
    """Print a table per exercise (graded, mean, full marks, missing, errors), the problems, and where it all went."""
    table = Table(title=f"{len(result.rows)} students")
    for column in ("exercise", "graded", "mean", "full marks", "missing", "errors"):
        table.add_column(column, justify="left" if column == "exercise" else "right")
    maxima = dict(result.max_scores)
    for ex in result.exercises:
        cells = [c for row in result.rows for name, c in row.cells if name == ex]
        ok = [c for c in cells if c.status == "ok"]
        top = maxima.get(ex)
        mean = f"{sum(c.score for c in ok) / len(ok):.1f}" + (f" / {top:g}" if top else "") if ok else "-"
        full = sum(bool(top) and c.score == top for c in ok)
        table.add_row(ex, str(len(ok)), mean, str(full), str(sum(c.status == "missing" for c in cells)),
                      str(sum(c.status == "error" for c in cells)))
    console.print(table)
    problems = [(row.name, ex, c.message) for row in result.rows for ex, c in row.cells if c.status == "error"]
    for student, ex, message in problems[:MAX_ERRORS_SHOWN]:
        console.print(Text.assemble(("! ", "yellow"), f"{student}/{ex}: ", message.splitlines()[0] if message else ""))
    if len(problems) > MAX_ERRORS_SHOWN:
        console.print(f"… and {len(problems) - MAX_ERRORS_SHOWN} more errors: see grades.json")
    no_page = sum(c.status == "ok" and c.message.startswith(HTML_NOTE) for row in result.rows for _, c in row.cells)
    if no_page:
        console.print(Text(f"! {no_page} HTML feedback page{'s' * (no_page != 1)} could not be written (see "
                           f"grades.json); the .txt feedback is complete.", style="yellow"))
    how = f"{result.workers} worker{'s' * (result.workers != 1)}, " if result.graded else ""
    console.print(f"Graded {result.graded}, kept {result.kept} from an earlier run (same file and seed); "
                  f"{how}{result.duration:.1f} s.")
    if result.retry:
        console.print(Text(f"{result.retry} could not be graded this time (see above); run the same command again.",
                           style="bold yellow"))
    if result.pending:  # left by an interrupted run, in exercises this run was not asked to grade
        names = ", ".join(sorted({ex for row in result.rows for ex, c in row.cells if c.status == "pending"},
                                 key=lambda n: (len(n), n)))
        console.print(Text(f"{result.pending} still pending from an interrupted run ({names}); "
                           f"run the batch again with these exercises.", style="bold yellow"))
    console.print(f"Gradebook: {result.out / 'grades.csv'}, grades.json; feedback: {result.out / 'feedback'}/")
