"""benchmarks/gpu_check.py: skips cleanly without CUDA, runs its logic on the CPU, and judges verdicts right."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "gpu_check.py"


def load():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_without_cuda_it_says_it_skipped_and_exits_0():
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is here: the script would run the whole GPU check")
    done = run()
    assert done.returncode == 0, done.stderr
    assert "skipped, CUDA is not available" in done.stdout


def test_on_the_cpu_a_key_and_a_bug_get_right_verdicts_and_errors_are_measured():
    done = run("--device", "cpu", "--exercise", "4", "--only", "bad_no_skip", "--jobs", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "right  solutions/exercise4.py" in out and "11/11 on cpu" in out
    assert "right  tests/submissions/exercise4/bad_no_skip.py" in out
    assert "numerics_train: largest error" in out and "tolerance 1e-04" in out
    assert "every verdict is right on cpu" in out


def test_judge_names_wrong_verdicts():
    judge = load().judge
    passed, failed = ("a", "passed", ""), ("b", "failed", "wrong")
    assert judge(None, [passed]) == ""
    assert "full marks" in judge(None, [passed, failed])
    assert judge({"b"}, [passed, failed]) == ""
    assert "passed" in judge({"a", "b"}, [passed, failed])
    assert "unknown" in judge({"c"}, [passed, failed])
    assert judge(None, []) != ""  # no checks at all is no verdict


def test_every_chosen_file_exists_and_says_what_it_expects():
    gpu_check = load()
    for exercise, stems in gpu_check.CHOSEN.items():
        for stem in stems:
            path = REPO / "tests" / "submissions" / exercise / f"{stem}.py"
            assert path.exists(), path
            assert (gpu_check.expectation(path) is None) == stem.startswith("good_"), path
