"""Grading a class in shards (`batch --shard I/N`) and merging their gradebooks (`cnn-grade merge`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.classroom.shards import Shard, parse_shard, shard_of
from grader.errors import ToolError
from tests.conftest import REPO, SUBMISSIONS

# A class of exercises 1 and 2 (fast to grade): keys, wrong files, a student with both, one with none.
FILES = {
    "ada": {"exercise1.py": REPO / "solutions/exercise1.py", "exercise2.py": REPO / "solutions/exercise2.py"},
    "bo": {"exercise1.py": SUBMISSIONS / "exercise1/bad_flipped_kernel.py"},
    "cy": {"exercise1.py": SUBMISSIONS / "exercise1/bad_no_padding.py",
           "exercise2.py": SUBMISSIONS / "exercise2/bad_no_jump.py"},
    "di": {"exercise2.py": SUBMISSIONS / "exercise2/bad_ceil.py"},
    "ed": {"exercise1.py": SUBMISSIONS / "exercise1/bad_no_bias.py"},
    "flo": {"exercise1.py": SUBMISSIONS / "exercise1/bad_channels_last.py"},
    "gus": {"exercise2.py": REPO / "solutions/exercise2.py"},
    "hal": {"notes.txt": None},
}


def make_class(root: Path) -> Path:
    folder = root / "class"
    for student, files in FILES.items():
        (folder / student).mkdir(parents=True)
        for name, source in files.items():
            target = folder / student / name
            if source is None:
                target.write_text("not an exercise")
            else:
                shutil.copy(source, target)
    return folder


def grader(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grader", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def cells(out: Path) -> dict:
    """Per (student, exercise): what a grade is, without when it was made."""
    data = json.loads((out / "grades.json").read_text())
    return {(student, ex): (c["status"], c["score"], c["max_score"], c["seed"], c["checks"])
            for student, row in data["students"].items() for ex, c in row["exercises"].items()}


def test_a_shard_is_parsed_from_i_slash_n_and_anything_else_is_refused():
    assert parse_shard("2/16") == Shard(2, 16) and str(Shard(2, 16)) == "2/16"
    for bad in ("0/4", "5/4", "2", "a/b", "2/0", "-1/3", ""):
        with pytest.raises(ToolError, match="I/N"):
            parse_shard(bad)


def test_every_student_is_in_exactly_one_shard_and_stays_there_when_others_join():
    names = [f"student{i:03d}" for i in range(200)]
    for count in (1, 2, 3, 16):
        owners = {name: [i for i in range(1, count + 1) if Shard(i, count).holds(name)] for name in names}
        assert all(len(found) == 1 for found in owners.values())
    before = {name: shard_of(name, 16) for name in names}
    more = names + [f"late{i}" for i in range(50)]
    assert {name: shard_of(name, 16) for name in more if name in before} == before
    sizes = [sum(shard_of(name, 4) == i for name in names) for i in range(1, 5)]
    assert min(sizes) >= 30  # a hash spreads a class: no shard of 200 students gets only a handful


@pytest.fixture(scope="module")
def sharded(tmp_path_factory):
    """The class graded once whole and once as 3 shards running side by side as separate processes."""
    root = tmp_path_factory.mktemp("shards")
    submissions = make_class(root)
    whole = grader("batch", str(submissions), "--out", str(root / "whole"), "--workers", "1")
    parts = [grader("batch", str(submissions), "--shard", f"{i}/3", "--workers", "1") for i in (1, 2, 3)]
    results = [p.communicate(timeout=600) + (p.returncode,) for p in (whole, *parts)]
    assert [code for _, _, code in results] == [0, 0, 0, 0], results
    return root, submissions


def test_three_shards_merged_give_the_grades_of_one_batch(sharded):
    root, submissions = sharded
    shards = [root / f"gradebook-{i}-of-3" for i in (1, 2, 3)]  # each shard's default gradebook
    listed = [grader("batch", str(submissions), "--shard", f"{i}/3", "--list").communicate()[0].split()
              for i in (1, 2, 3)]
    assert sorted(sum(listed, [])) == sorted(FILES)  # --list: the split, every student once

    merged = CliRunner().invoke(cli, ["merge", *map(str, shards), "--out", str(root / "merged")])
    assert merged.exit_code == 0, merged.output
    assert cells(root / "merged") == cells(root / "whole")
    assert (root / "merged" / "grades.csv").read_text().splitlines()[1:] == \
        (root / "whole" / "grades.csv").read_text().splitlines()[1:]
    for student, files in FILES.items():
        for name in files:
            if name.startswith("exercise"):
                assert (root / "merged" / "feedback" / student / name.replace(".py", ".txt")).is_file()


def test_a_missing_shard_and_its_students_are_named(sharded):
    root, submissions = sharded
    result = CliRunner().invoke(cli, ["merge", str(root / "gradebook-1-of-3"), str(root / "gradebook-3-of-3"),
                                      "--out", str(root / "partial")])
    left = [name for name in FILES if shard_of(name, 3) == 2]
    assert result.exit_code == 1
    assert "No gradebook for shard 2/3" in result.output
    if left:
        assert all(name in result.output for name in left)


def copy_book(source: Path, target: Path, change) -> Path:
    shutil.copytree(source, target)
    data = json.loads((target / "grades.json").read_text())
    change(data)
    (target / "grades.json").write_text(json.dumps(data))
    return target


@pytest.mark.parametrize("change, refusal", [
    (lambda d: d.update(version="0.0.1"), "different versions of cnn-grade"),
    (lambda d: d.update(submissions="/elsewhere/class"), "different submission folders"),
    (lambda d: d.update(shard="1/4"), "different numbers of shards"),
], ids=["version", "submissions", "split"])
def test_shards_that_do_not_belong_together_are_refused(sharded, tmp_path, change, refusal):
    root, _ = sharded
    odd = copy_book(root / "gradebook-2-of-3", tmp_path / "odd", change)
    result = CliRunner().invoke(cli, ["merge", str(root / "gradebook-1-of-3"), str(odd), "--out",
                                      str(tmp_path / "merged")])
    assert result.exit_code == 2 and refusal in result.output
    assert not (tmp_path / "merged" / "grades.json").exists()


def test_shards_graded_with_different_seeds_are_refused(sharded, tmp_path):
    root, submissions = sharded
    other = tmp_path / "other-seed"
    done = grader("batch", str(submissions), "--shard", "2/3", "--seed", "77", "--out", str(other), "--workers", "1")
    done.communicate(timeout=600)
    if not json.loads((other / "grades.json").read_text())["students"]:
        pytest.skip("shard 2/3 of this class is empty")
    result = CliRunner().invoke(cli, ["merge", str(root / "gradebook-1-of-3"), str(other), "--out",
                                      str(tmp_path / "merged")])
    assert result.exit_code == 2 and "different seeds" in result.output and "--seed" in result.output


def test_a_student_graded_twice_with_different_results_is_refused(sharded, tmp_path):
    root, _ = sharded
    first = root / "gradebook-1-of-3"
    student = next(iter(json.loads((first / "grades.json").read_text())["students"]))

    def regrade(data):
        data["shard"] = "2/3"
        row = data["students"][student]["exercises"]
        exercise = next(iter(row))
        row[exercise]["score"] = row[exercise]["score"] + 1

    twin = copy_book(first, tmp_path / "twin", regrade)
    result = CliRunner().invoke(cli, ["merge", str(first), str(twin), "--out", str(tmp_path / "merged")])
    assert result.exit_code == 2 and f"{student} was graded in two shards" in result.output

    same = copy_book(first, tmp_path / "same", lambda d: d.update(shard="2/3"))  # same results: merged once
    result = CliRunner().invoke(cli, ["merge", str(first), str(same), "--out", str(tmp_path / "ok")])
    assert result.exit_code == 1 and "No gradebook for shard 3/3" in result.output


def test_bad_shard_options_are_tool_errors(tmp_path):
    submissions = make_class(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(cli, ["batch", str(submissions), "--list"])
    assert listed.exit_code == 2 and "--shard" in listed.output
    bad = runner.invoke(cli, ["batch", str(submissions), "--shard", "4/3"])
    assert bad.exit_code == 2 and "I/N" in bad.output
    nothing = runner.invoke(cli, ["merge", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert nothing.exit_code == 2 and "not a gradebook" in nothing.output
    # A shard's gradebook is not resumed as another shard's (or the whole class's).
    runner.invoke(cli, ["batch", str(submissions), "--shard", "1/3", "--out", str(tmp_path / "book"),
                        "--exercise", "exercise2"])
    again = runner.invoke(cli, ["batch", str(submissions), "--shard", "2/3", "--out", str(tmp_path / "book")])
    assert again.exit_code == 2 and "shard 1/3" in again.output
