"""A class's grades on disk: grades.json (the record a re-run resumes from) and grades.csv (for spreadsheets)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..errors import ToolError
from ..files import write_atomic

SCHEMA = 1
JSON_NAME, CSV_NAME = "grades.json", "grades.csv"
CELL_STATUSES = ("ok", "missing", "error", "pending")
# A spreadsheet runs a cell starting with these as a formula; folder names come from students.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Cell:
    """One student's result on one exercise."""

    # ok (graded, whatever the score) | missing (nothing handed in) | error (not gradable: see message)
    # | pending (handed in, not graded yet: a batch was interrupted before its turn)
    status: str
    score: float = 0.0
    max_score: float | None = None
    file: str = ""  # the graded file, relative to the submissions folder
    sha256: str | None = None  # of that file when graded; None: grade it again on the next run
    seed: int | None = None
    checks: dict[str, str] = field(default_factory=dict)  # check name -> passed|failed|error|timeout
    message: str = ""
    duration: float = 0.0  # seconds spent grading
    graded_at: str = ""  # UTC, ISO 8601
    # Of the checks that did not pass (absent from gradebooks written before they were recorded):
    diagnoses: dict[str, str] = field(default_factory=dict)  # check name -> misconception id or status
    fingerprints: dict[str, str] = field(default_factory=dict)  # check name -> digest of the wrong outputs
    hints: dict[str, str] = field(default_factory=dict)  # check name -> its hint (the class report's text)

    @property
    def final(self) -> bool:
        """True when a re-run may keep this cell as long as the file and seed are unchanged."""
        return self.status in ("ok", "error") and self.sha256 is not None


def kit_version() -> str:
    """The installed cnn-grade's version ("unknown" when run from a folder without installing it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cnn-grade")
    except PackageNotFoundError:
        return "unknown"


def now() -> str:
    """The current UTC time as ISO 8601, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@contextlib.contextmanager
def locked(out: Path):
    """Hold OUT/.grades.lock: two batches writing one gradebook would grade everything twice and lose cells."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; run one batch per gradebook
        yield
        return
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".grades.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ToolError(f"Another cnn-grade batch is writing the gradebook in {out}: let it finish.") from None
        yield  # the lock goes with the file's closing, even if this process is killed


class Gradebook:
    """The grades of one submissions folder, rewritten atomically (JSON, then CSV) on every change."""

    def __init__(self, out: Path, submissions: Path, shard: str | None = None):
        self.out, self.submissions = out, submissions
        self.cells: dict[str, dict[str, Cell]] = {}
        self.max_scores: dict[str, float] = {}
        self.shard = shard  # "2/16" for a shard's gradebook (batch --shard), None for a whole class
        self.roster: list[str] = []  # every student folder of the class, graded here or in another shard
        self.version = kit_version()  # merge refuses shards graded by different versions

    @property
    def json_path(self) -> Path:
        return self.out / JSON_NAME

    @property
    def csv_path(self) -> Path:
        return self.out / CSV_NAME

    @classmethod
    def open(cls, out: Path, submissions: Path, shard: str | None = None) -> "Gradebook":
        """The gradebook in `out`, or an empty one; a file that is not one of ours is a ToolError."""
        try:
            book = cls.load(out)
        except FileNotFoundError:
            return cls(out, submissions, shard)
        if book.submissions != submissions:
            raise ToolError(f"{out} holds the gradebook of {book.submissions}, not of {submissions}: "
                            f"pass another --out.")
        if book.shard != shard:
            held = f"shard {book.shard}" if book.shard else "the whole class"
            wanted = f"shard {shard}" if shard else "the whole class"
            raise ToolError(f"{out} holds the gradebook of {held}, not of {wanted}: pass another --out.")
        book.version = kit_version()  # what grades from now on
        return book

    @classmethod
    def load(cls, out: Path) -> "Gradebook":
        """The gradebook in `out` (FileNotFoundError if none); a file that is not one of ours is a ToolError."""
        book = cls(out, Path())
        try:
            text = book.json_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise
        except OSError as e:
            raise ToolError(f"Cannot read {book.json_path}: {e.strerror or e}") from None
        try:
            data = json.loads(text)
            if data.get("schema") != SCHEMA:
                raise ValueError(f"schema {data.get('schema')!r}, expected {SCHEMA}")
            book.max_scores = {str(k): float(v) for k, v in data.get("max_scores", {}).items()}
            for student, row in data["students"].items():
                book.cells[student] = {ex: _cell(raw) for ex, raw in row["exercises"].items()}
            book.submissions = Path(data["submissions"])
            book.shard = data.get("shard")  # absent before shards existed: a whole class
            book.roster = [str(name) for name in data.get("roster", [])]
            book.version = str(data.get("version", ""))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ToolError(f"{book.json_path} is not a gradebook this version of cnn-grade can resume ({e}); "
                            f"move it away to start afresh.") from None
        return book

    def fill_max_scores(self) -> None:
        """Give each cell without a maximum its exercise's, where known: totals read as "out of"."""
        for row in self.cells.values():
            for name, cell in row.items():
                if cell.max_score is None and name in self.max_scores:
                    row[name] = replace(cell, max_score=self.max_scores[name])

    def get(self, student: str, exercise: str) -> Cell | None:
        """The recorded cell, or None."""
        return self.cells.get(student, {}).get(exercise)

    def put(self, student: str, exercise: str, cell: Cell) -> None:
        """Record a cell (not yet written: see save)."""
        self.cells.setdefault(student, {})[exercise] = cell
        if cell.max_score is not None:
            self.max_scores[exercise] = cell.max_score

    def exercises(self) -> list[str]:
        """Every exercise with a cell, in course order (exercise2 before exercise10)."""
        names = {ex for row in self.cells.values() for ex in row}
        return sorted(names, key=lambda n: (len(n), n))

    def students(self) -> list[str]:
        """Every student with a row, sorted without regard to case."""
        return sorted(self.cells, key=lambda s: (s.casefold(), s))

    def count(self, status: str) -> int:
        """How many cells have this status."""
        return sum(c.status == status for row in self.cells.values() for c in row.values())

    def total(self, student: str) -> float:
        """The sum of a student's scores."""
        return float(sum(c.score for c in self.cells.get(student, {}).values()))

    def save(self) -> None:
        """Write grades.json and then grades.csv, each atomically."""
        write_atomic(self.json_path, self.to_json())
        write_atomic(self.csv_path, self.to_csv())

    def to_json(self) -> str:
        """The whole gradebook as JSON: the source a re-run resumes from."""
        exercises = self.exercises()
        students = {s: {"total": self.total(s),
                        "exercises": {ex: asdict(self.cells[s][ex]) for ex in exercises if ex in self.cells[s]}}
                    for s in self.students()}
        data = {"schema": SCHEMA, "tool": "cnn-grade", "version": self.version, "submissions": str(self.submissions),
                "shard": self.shard, "roster": sorted(set(self.roster) | set(self.cells), key=lambda s: (s.casefold(), s)),
                "updated": now(), "exercises": exercises,
                "max_scores": {ex: self.max_scores.get(ex) for ex in exercises}, "students": students}
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """One row per student: a score (or missing / error / pending) per exercise, and the total."""
        exercises = self.exercises()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["student", *exercises, "total"])
        for student in self.students():
            row = self.cells[student]
            writer.writerow([_safe(student), *(_csv_cell(row.get(ex)) for ex in exercises),
                             _points(self.total(student))])
        return buffer.getvalue()


def _cell(raw: dict) -> Cell:
    cell = Cell(**raw)
    if cell.status not in CELL_STATUSES:
        raise ValueError(f"a cell has status {cell.status!r}")
    for name in ("checks", "diagnoses", "fingerprints", "hints"):
        table = getattr(cell, name)
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise ValueError(f"a cell's {name} is not a table of names")
    return cell


def _csv_cell(cell: Cell | None) -> str:
    if cell is None:  # an exercise no batch examined for this student: "missing" would claim nothing was handed in
        return ""
    return _points(cell.score) if cell.status == "ok" else cell.status


def _points(value: float) -> str:
    return f"{value:g}"


def _safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text
