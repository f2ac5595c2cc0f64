"""The README's tables that list exercises are checked against the registry, so they cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

from grader.grading.exercises import EXERCISES

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `(exercise\d+)` \| `([^`]+)` \| (.+?) \| (\d+(?:\.\d+)?) \|$")


def test_the_exercise_table_lists_every_exercise_with_its_alias_and_points():
    rows = [ROW.match(line).groups() for line in README.read_text(encoding="utf-8").splitlines() if ROW.match(line)]
    assert [(name, slug, float(points)) for name, slug, _, points in rows] == \
           [(ex.name, ex.slug, ex.points()) for ex in EXERCISES]


def test_the_first_run_names_the_first_exercise_points():
    first = EXERCISES[0]
    assert f"the score is 0 / {first.points():g}" in README.read_text(encoding="utf-8")
