"""The tests every exercise's check module gets: keys, stub, styled correct code, one bug per file."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO, expectation, graded, submissions


def assert_full_marks(report) -> None:
    wrong = [(c.name, c.status, c.message) for c in report.checks if not c.passed]
    assert not wrong, wrong
    assert report.score == report.max_score > 0


def assert_stub_scores_zero(exercise: str) -> None:
    report = graded(exercise, REPO / "exercises" / f"{exercise}.py")
    assert report.score == 0
    for c in report.checks:
        assert c.status == "failed", (c.name, c.status, c.message)
        assert c.message.startswith("not implemented yet"), c.message


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


def assert_bug_costs_only_its_checks(exercise: str, path: Path) -> None:
    """A buggy submission fails exactly the checks its `expect:` line lists: one mistake costs its concepts only.

    A file refused before it runs (a forbidden import) fails every check by design; its line names its concept.
    """
    fails, _ = expectation(path)
    report = graded(exercise, path)
    if all(c.message.startswith("not run:") for c in report.checks):
        return
    failed = {c.name for c in report.checks if not c.passed}
    extra = [(c.name, c.status, c.message[:200]) for c in report.checks if c.name in failed - (fails or set())]
    assert not extra, f"{path.name} should fail only {sorted(fails or ())}, but also fails {extra}"


def assert_every_check_is_caught(exercise: str) -> None:
    """Every check is failed by at least one buggy submission (so every check can fail)."""
    report = graded(exercise, REPO / "solutions" / f"{exercise}.py")
    caught = set()
    for path in submissions(exercise, "bad"):
        caught |= {c.name for c in graded(exercise, path).checks if not c.passed}
    missing = {c.name for c in report.checks} - caught
    assert not missing, f"no buggy submission fails {sorted(missing)}"
