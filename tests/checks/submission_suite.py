"""What the shared tests assert of a graded submission: full marks, or a bug caught and named."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import expectation, graded


def assert_full_marks(report) -> None:
    wrong = [(c.name, c.status, c.message) for c in report.checks if not c.passed]
    assert not wrong, wrong
    assert report.score == report.max_score > 0


def assert_bug_caught(exercise: str, path: Path) -> None:
    fails, names = expectation(path)
    assert fails, f"{path.name} declares no failing checks"
    report = graded(exercise, path)
    known = {c.name for c in report.checks}
    assert fails <= known, f"{path.name} names unknown checks {fails - known}"
    failed = {c.name for c in report.checks if not c.passed}
    assert fails <= failed, f"{path.name}: expected {sorted(fails)} to fail, but failed only {sorted(failed)}"
    assert report.score < report.max_score
    if names:
        feedback = " ".join(f"{c.message} {c.hint}" for c in report.checks if not c.passed).lower()
        assert names in feedback, f"{path.name}: feedback never says {names!r}:\n{feedback[:2000]}"
