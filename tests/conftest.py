"""Shared fixtures: an isolated score cache, no instructor seed, and paths into the repo."""

from __future__ import annotations

import ast
import functools
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory, monkeypatch):
    """Scores go to a throwaway cache; an instructor's seed in the shell must not leak into tests."""
    monkeypatch.setenv("CNN_GRADE_CACHE", str(tmp_path_factory.mktemp("cache") / "scores.json"))
    monkeypatch.delenv("CNN_GRADE_SEED", raising=False)


@functools.lru_cache(maxsize=None)
def graded(exercise: str, path: Path, seed: int | None = None):
    """Grade once per (exercise, file, seed) for the whole session: Reports are immutable."""
    from grader.grading.engine import grade_exercise

    return grade_exercise(exercise, submission=path, seed=seed)


def expectation(path: Path) -> tuple[set[str] | None, str | None]:
    """Read `expect:` and `names:` from a submission's docstring: (checks that must fail or None, word)."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    fails, names = None, None
    for line in doc.splitlines():
        if line.startswith("expect:"):
            rest = line.removeprefix("expect:").strip()
            fails = None if rest == "full marks" else set(rest.removeprefix("fails").split())
        elif line.startswith("names:"):
            names = line.removeprefix("names:").strip().lower()
    return fails, names


def submissions(exercise: str, prefix: str) -> list[Path]:
    return sorted((SUBMISSIONS / exercise).glob(f"{prefix}_*.py"))


def course_folder(tmp_path: Path, *files: str) -> Path:
    """A student's course folder in tmp_path: exercises/ holding copies of the given repo files."""
    (tmp_path / "exercises").mkdir(parents=True, exist_ok=True)
    for name in files:
        shutil.copy(REPO / name, tmp_path / "exercises" / Path(name).name.replace("_loops", ""))
    return tmp_path
