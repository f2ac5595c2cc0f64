"""One mistake costs its own concepts: a buggy submission fails exactly the checks its `expect:` line lists."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import expectation, graded


def assert_bug_costs_only_its_checks(exercise: str, path: Path) -> None:
    """The checks that do not pass are exactly those of `expect: fails ...`: none missing, none more.

    A check that fails beside them was decided by another check's mistake (DESIGN.md, invariant 10); one that
    passes although listed means the line, or the check, is wrong.
    """
    fails, _ = expectation(path)
    assert fails, f"{path.name} declares no failing checks"
    report = graded(exercise, path)
    known = {c.name for c in report.checks}
    assert fails <= known, f"{path.name} names unknown checks {sorted(fails - known)}"
    failed = {c.name for c in report.checks if not c.passed}
    extra = [(c.name, c.status, c.message[:200]) for c in report.checks if c.name in failed - fails]
    assert not extra, f"{path.name} should fail only {sorted(fails)}, but also fails {extra}"
    assert fails <= failed, f"{path.name}: {sorted(fails - failed)} pass although its expect: line lists them"
