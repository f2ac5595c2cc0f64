"""A course adds its own exercise without editing grader/: tests/packs/maxpool_pack, named in cnn-grade.toml.

The exercise goes through everything a built-in one does: show, grading, build, verify, batch and a
Gradescope bundle, each through the real CLI in a subprocess, from a course folder that is not the repository.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.errors import ToolError

from ..classroom.test_bundle import gradescope_folder, run_autograder

PACK = Path(__file__).resolve().parents[1] / "packs" / "maxpool_pack"
KEY = PACK / "key" / "exercise6.py"


def cnn_grade(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CNN_GRADE_CONFIG"}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder whose cnn-grade.toml names the pack; its solutions/ has no key of exercise 6."""
    folder = tmp_path / "course"
    (folder / "solutions").mkdir(parents=True)
    (folder / "cnn-grade.toml").write_text(f'packs = ["{PACK.as_posix()}"]\n')
    return folder


def test_show_list_and_grading(course):
    shown = cnn_grade(course, "show", "maxpool")
    assert shown.returncode == 0 and "max pooling" in shown.stdout.lower()
    listed = cnn_grade(course, "list")
    assert "exercise6" in listed.stdout and "max-pool" in listed.stdout
    key = cnn_grade(course, "6", "--file", str(KEY), "--format", "json")
    assert key.returncode == 0, key.stderr
    assert json.loads(key.stdout)["score"] == 4.0
    bad = cnn_grade(course, "exercise6", "--file", str(PACK / "submissions" / "bad_min_pool.py"))
    assert bad.returncode == 1 and "minimum of each window" in bad.stdout


def test_build_then_the_stub_scores_zero_and_verify_proves_the_key(course):
    built = cnn_grade(course, "build")
    assert built.returncode == 0, built.stderr
    assert (course / "exercises" / "exercise6.py").is_file() and (course / "exercises" / "exercise6.ipynb").is_file()
    stub = cnn_grade(course, "exercise6", "--format", "json")
    report = json.loads(stub.stdout)
    assert report["score"] == 0 and all(c["message"].startswith("not implemented yet") for c in report["checks"])
    verified = cnn_grade(course, "verify", "exercise6", "--seeds", "1", "--mutants", "3")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "exercise6" in verified.stdout


def test_batch_grades_a_class(course):
    for student, name in (("alice", "good_vectorized.py"), ("bob", "bad_no_check.py")):
        folder = course / "submissions" / student
        folder.mkdir(parents=True)
        (folder / "exercise6.py").write_text((PACK / "submissions" / name).read_text())
    done = cnn_grade(course, "batch", "submissions", "--workers", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {row["student"]: row for row in csv.DictReader((course / "gradebook" / "grades.csv").open())}
    assert rows["alice"]["exercise6"] == "4" and rows["bob"]["exercise6"] == "3"


def test_gradescope_bundle_carries_the_pack_but_not_its_key(course, tmp_path):
    out = tmp_path / "exercise6.zip"
    made = cnn_grade(course, "gradescope-bundle", "exercise6", "--out", str(out))
    assert made.returncode == 0, made.stderr
    names = zipfile.ZipFile(out).namelist()
    assert "cnn-grade/packs/maxpool_pack/checks.py" in names and "cnn-grade/cnn-grade.toml" in names
    assert not [n for n in names if "/key/" in n or n.endswith("exercise6.py")]  # the key stays home
    root = gradescope_folder(tmp_path, out)
    (root / "submission" / "exercise6.py").write_text((PACK / "submissions" / "good_vectorized.py").read_text())
    results, _ = run_autograder(root)
    assert results["score"] == 4.0, results


def test_a_pack_that_clashes_with_a_built_in_exercise_is_a_tool_error(tmp_path, monkeypatch):
    from grader.grading.exercises import EXERCISES
    from grader.grading.packs import added_exercises

    pack = tmp_path / "clash_pack"
    pack.mkdir()
    (pack / "__init__.py").write_text("from grader.grading.exercises import Exercise\n"
                                      "EXERCISES = [Exercise('exercise7', 7, 'conv2d', 'clash', ('f',), ('numpy',))]\n")
    (tmp_path / "cnn-grade.toml").write_text('packs = ["clash_pack"]\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ToolError, match="Two exercises answer to 'conv2d'"):
        added_exercises(EXERCISES)
