"""The CLI leaves without the interpreter's teardown, and still behaves as a normal exit would."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.exiting import exit_code
from tests.conftest import REPO


@pytest.mark.parametrize("code, status", [(None, 0), (0, 0), (1, 1), (2, 2), (130, 130), (256 + 3, 3)])
def test_the_exit_status_is_what_sys_exit_would_give(code, status):
    assert exit_code(code) == status


def test_a_message_as_exit_code_is_printed_and_gives_1(capsys):
    assert exit_code("cnn-grade: no") == 1
    assert capsys.readouterr().err == "cnn-grade: no\n"


def _grader(*args, env=None):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=300,
                          cwd=REPO, env={**os.environ, **(env or {})})


def test_output_written_to_a_pipe_is_complete_and_the_exit_status_kept():
    # The whole text, flushed before the process ends: the same as the command gives in-process.
    result = _grader("show", "exercise5")
    assert result.returncode == 0
    assert result.stdout == CliRunner().invoke(cli, ["show", "exercise5"]).output
    missing = _grader("exercise1", "--file", "no_such_file.py")
    assert missing.returncode == 2 and "no_such_file.py" in missing.stderr


def test_a_grading_run_still_removes_its_temporary_folders_and_ends_its_child(tmp_path):
    buggy = next((REPO / "tests" / "submissions" / "exercise1").glob("bad_*.py"))
    result = _grader("exercise1", "--file", str(buggy), "--format", "json", "--out", str(tmp_path / "r.json"),
                     env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 1 and (tmp_path / "r.json").stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # the sandbox's folder is gone
