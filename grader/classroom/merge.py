"""`cnn-grade merge`: one gradebook from the gradebooks of a batch's shards (grades.json, grades.csv, feedback/)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..errors import ToolError
from .gradebook import JSON_NAME, Cell, Gradebook, _cell, locked

FEEDBACK = "feedback"
# What may differ between two gradings of the same file with the same seed and kit.
_CIRCUMSTANCES = ("duration", "graded_at")


@dataclass(frozen=True)
class Part:
    """One shard's gradebook as read from disk."""

    folder: Path
    data: dict
    cells: dict[str, dict[str, Cell]]

    @property
    def shard(self) -> str:
        return str(self.data.get("shard") or "1/1")


@dataclass(frozen=True)
class MergeResult:
    """What a merge wrote and what it found missing."""

    out: Path
    gradebooks: int
    students: int
    ungraded: tuple[str, ...]  # on some shard's roster, in no shard's gradebook
    pending: tuple[tuple[str, str], ...]  # (student, exercise) cells a shard left pending
    absent_shards: tuple[str, ...]  # "3/16": shards whose gradebook was not given

    @property
    def complete(self) -> bool:
        return not (self.ungraded or self.pending or self.absent_shards)


def merge_gradebooks(gradebooks: Sequence[Path], *, out: Path) -> MergeResult:
    """Merge the shards' gradebooks into `out`; shards that cannot belong together are a ToolError."""
    parts = [_read(Path(folder)) for folder in gradebooks]
    if not parts:
        raise ToolError("Give the shards' gradebook folders to merge, e.g. cnn-grade merge shards/* --out gradebook.")
    out = Path(out)
    if any(out.resolve() == part.folder.resolve() for part in parts):
        raise ToolError(f"--out {out} is one of the gradebooks to merge: write the merged one elsewhere.")
    _same(parts, "submissions", "submission folders", "grade one folder in every shard")
    _same(parts, "version", "versions of cnn-grade", "grade every shard with one version of the kit")
    _same_seeds(parts)
    counts = {part.shard.partition("/")[2] for part in parts}
    if len(counts) > 1:
        raise ToolError(f"The gradebooks come from splits into different numbers of shards ({', '.join(sorted(counts))}).")

    submissions = Path(parts[0].data["submissions"])
    with locked(out):
        book = Gradebook(out, submissions)
        book.version = str(parts[0].data.get("version", book.version))
        source: dict[str, Part] = {}
        for part in parts:
            for ex, score in part.data.get("max_scores", {}).items():
                if score is not None:
                    book.max_scores[ex] = float(score)
            for student, row in part.cells.items():
                for exercise, cell in row.items():
                    earlier = book.get(student, exercise)
                    if earlier is not None and _result(earlier) != _result(cell):
                        raise ToolError(f"{student} was graded in two shards ({source[student].shard} and "
                                        f"{part.shard}) with different results for {exercise}: grade that "
                                        f"student again in one shard before merging.")
                    book.put(student, exercise, cell)
                source.setdefault(student, part)
        roster = sorted({name for part in parts for name in part.data.get("roster", ())} | set(book.cells))
        book.roster = roster
        book.fill_max_scores()
        _copy_feedback(source, out)
        book.save()
    shards = sorted({part.shard for part in parts})
    count = int(shards[0].partition("/")[2])
    absent = tuple(f"{i}/{count}" for i in range(1, count + 1) if f"{i}/{count}" not in shards)
    pending = tuple((s, ex) for s in book.students() for ex, c in book.cells[s].items() if c.status == "pending")
    return MergeResult(out, len(parts), len(book.cells), tuple(s for s in roster if s not in book.cells),
                       pending, absent)


def print_merge(result: MergeResult, console: Console) -> None:
    """Say what was merged, and who is still to be graded."""
    console.print(Text(f"Merged {result.gradebooks} gradebooks: {result.students} students in "
                       f"{result.out / 'grades.csv'}.", style="bold"))
    if result.absent_shards:
        console.print(Text(f"No gradebook for shard {', '.join(result.absent_shards)}.", style="yellow"))
    if result.ungraded:
        console.print(Text(f"{len(result.ungraded)} students no shard graded: {', '.join(result.ungraded[:20])}"
                           + (" …" if len(result.ungraded) > 20 else ""), style="yellow"))
    if result.pending:
        console.print(Text(f"{len(result.pending)} cells still pending (an interrupted shard): run that shard "
                           f"again, then merge again.", style="yellow"))


def _read(folder: Path) -> Part:
    path = folder / JSON_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cells = {student: {ex: _cell(raw) for ex, raw in row["exercises"].items()}
                 for student, row in data["students"].items()}
        data["submissions"]  # noqa: B018 - every gradebook names its folder
    except FileNotFoundError:
        raise ToolError(f"{folder} is not a gradebook: it has no {JSON_NAME}.") from None
    except OSError as e:
        raise ToolError(f"Cannot read {path}: {e.strerror or e}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ToolError(f"{path} is not a gradebook this version of cnn-grade can merge ({e}).") from None
    return Part(folder, data, cells)


def _same(parts: list[Part], key: str, what: str, fix: str) -> None:
    values = {str(part.data.get(key)) for part in parts}
    if len(values) > 1:
        listed = "; ".join(f"{part.folder}: {part.data.get(key)}" for part in parts)
        raise ToolError(f"The gradebooks are of different {what} ({listed}): {fix}.")


def _same_seeds(parts: list[Part]) -> None:
    seeds: dict[str, dict[int, str]] = {}
    for part in parts:
        for row in part.cells.values():
            for exercise, cell in row.items():
                if cell.seed is not None:
                    seeds.setdefault(exercise, {}).setdefault(cell.seed, str(part.folder))
    for exercise, found in sorted(seeds.items()):
        if len(found) > 1:
            listed = ", ".join(f"seed {seed} in {folder}" for seed, folder in sorted(found.items()))
            raise ToolError(f"{exercise} was graded with different seeds ({listed}): grade every shard with one "
                            f"--seed (or none).")


def _result(cell: Cell) -> dict:
    data = asdict(cell)
    for key in _CIRCUMSTANCES:
        data.pop(key, None)
    return data


def _copy_feedback(source: dict[str, Part], out: Path) -> None:
    for student, part in source.items():
        folder = part.folder / FEEDBACK / student
        if folder.is_dir():
            shutil.copytree(folder, out / FEEDBACK / student, dirs_exist_ok=True)
