"""What every registered exercise gets by itself, built in or added by a pack.

Its key scores full marks, its stub zero with every check "not implemented yet", each correct style
full marks, each bug is caught, named and costs only its own checks, every check is failed by some
bug, and its notebook round trip works: the stub notebook scores zero, the key's code pasted in full.
A new exercise brings a key, a statement, checks and good_/bad_ examples; these tests then cover it.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from grader.instructor.build import build_release
from grader.grading.exercises import EXERCISES
from tests.checks.exact import assert_bug_costs_only_its_checks
from tests.checks.submission_suite import assert_bug_caught, assert_full_marks
from tests.conftest import REPO, SUBMISSIONS, graded
from tests.instructor.test_build import paste_into_notebook

PACKS = REPO / "tests" / "packs"
PACK_CONFIG = PACKS / "cnn-grade.toml"  # names the test pack (exercise 6), for the runs below


def _pack_exercises() -> tuple:
    if str(PACKS) not in sys.path:
        sys.path.insert(0, str(PACKS))
    return tuple(importlib.import_module("maxpool_pack").EXERCISES)


REGISTERED = EXERCISES + _pack_exercises()


def key_of(ex) -> Path:
    return ex.key(REPO / "solutions")


def examples(ex, prefix: str) -> list[Path]:
    return sorted((ex.submissions or SUBMISSIONS / ex.name).glob(f"{prefix}_*.py"))


CASES = {prefix: [pytest.param(ex, path, id=f"{ex.name}-{path.stem}") for ex in REGISTERED for path in examples(ex, prefix)]
         for prefix in ("good", "bad")}


@pytest.fixture(autouse=True)
def registry_with_the_test_pack(monkeypatch):
    monkeypatch.setenv("CNN_GRADE_CONFIG", str(PACK_CONFIG))


@pytest.fixture(scope="module")
def stubs(tmp_path_factory) -> Path:
    """Each exercise's stub and notebook, built from its key as `cnn-grade build` would."""
    course = tmp_path_factory.mktemp("course")
    (course / "solutions").mkdir()
    for ex in REGISTERED:
        (course / "solutions" / ex.filename).write_text(key_of(ex).read_text())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNN_GRADE_CONFIG", str(PACK_CONFIG))
        build_release(source=course / "solutions")
    return course / "exercises"


@pytest.mark.parametrize("ex", REGISTERED, ids=lambda ex: ex.name)
@pytest.mark.parametrize("seed", [None, 7])
def test_key_scores_full_marks(ex, seed):
    assert_full_marks(graded(ex.name, key_of(ex), seed))


@pytest.mark.parametrize("ex", REGISTERED, ids=lambda ex: ex.name)
def test_stub_scores_zero_with_every_check_not_implemented(ex, stubs):
    report = graded(ex.name, stubs / ex.filename)
    assert report.score == 0 and report.max_score > 0
    for c in report.checks:
        assert c.status == "failed" and c.message.startswith("not implemented yet"), (c.name, c.status, c.message)


@pytest.mark.parametrize("ex, path", CASES["good"])
def test_correct_styles_score_full_marks(ex, path):
    assert_full_marks(graded(ex.name, path))


@pytest.mark.parametrize("ex, path", CASES["bad"])
def test_bug_is_caught_and_named(ex, path):
    assert_bug_caught(ex.name, path)


@pytest.mark.parametrize("ex, path", CASES["bad"])
def test_bug_costs_only_its_own_checks(ex, path):
    report = graded(ex.name, path)
    if all(c.message.startswith("not run:") for c in report.checks):
        pytest.skip("refused before it runs (a forbidden import): every check is 'not run' by design")
    assert_bug_costs_only_its_checks(ex.name, path)


@pytest.mark.parametrize("ex", REGISTERED, ids=lambda ex: ex.name)
def test_every_check_is_failed_by_some_bug(ex):
    caught = set()
    for path in examples(ex, "bad"):
        caught |= {c.name for c in graded(ex.name, path).checks if not c.passed}
    missing = {spec.name for spec in ex.checks()} - caught
    assert not missing, f"no buggy submission of {ex.name} fails {sorted(missing)}"


@pytest.mark.parametrize("ex", REGISTERED, ids=lambda ex: ex.name)
def test_notebook_round_trip(ex, stubs, tmp_path):
    notebook = tmp_path / f"{ex.name}.ipynb"
    notebook.write_text((stubs / f"{ex.name}.ipynb").read_text())
    assert graded(ex.name, notebook).score == 0
    solved = tmp_path / "solved" / notebook.name
    solved.parent.mkdir()
    solved.write_text(notebook.read_text())
    paste_into_notebook(solved, key_of(ex).read_text())
    assert_full_marks(graded(ex.name, solved))

