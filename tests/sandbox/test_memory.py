"""Memory: the cap counts memory used, not address space reserved; /dev/shm is the run's own; setup failures are the grader's."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.grading import engine
from grader.cli import cli
from grader.errors import GraderSetupError, StudentRaised
from grader.grading.exercises import resolve
from grader.sandbox import isolate, zygote
from grader.sandbox.parent import Sandbox

ROOT = Path(__file__).resolve().parents[2]
LINUX = sys.platform.startswith("linux")
pytestmark = pytest.mark.skipif(not LINUX, reason="rlimits, /dev/shm and namespaces are Linux's")

# What the CUDA build of torch does at import, on machines without a GPU too: reserve gigabytes of
# address space it never touches. Under an RLIMIT_AS cap of 2 GiB this alone fails; memory used is tiny.
RESERVE = textwrap.dedent("""\
    import mmap as _mmap
    _reserved = _mmap.mmap(-1, 8 * 2**30, flags=_mmap.MAP_PRIVATE | _mmap.MAP_ANONYMOUS, prot=0)  # PROT_NONE
    """)


def test_reserved_address_space_is_not_counted():
    source = RESERVE + "import numpy as np\ndef work():\n    return float(np.ones(2**25).sum())\n"  # 256 MiB used
    with Sandbox(source, "x.py", memory_mb=1024) as sandbox:
        assert sandbox.call("work") == 2**25
        assert sandbox.applied.get("memory_mb") == 1024  # and the cap was really in force


def test_memory_used_past_the_cap_is_still_refused():
    source = RESERVE + "import numpy as np\ndef work():\n    return float(np.ones(2**28).sum())\n"  # 2 GiB used
    with Sandbox(source, "x.py", memory_mb=1024) as sandbox:
        with pytest.raises(StudentRaised) as caught:
            sandbox.call("work")
    assert caught.value.info.is_a("MemoryError")

def test_a_key_behind_an_8_gib_reservation_scores_full(tmp_path):
    key = (ROOT / "solutions" / "exercise4.py").read_text()
    path = tmp_path / "exercise4.py"
    path.write_text(RESERVE + key)
    report = engine.grade_exercise("exercise4", submission=path)
    assert report.score == report.max_score, [(c.name, c.status, c.message) for c in report.checks if c.score < c.max_score]


@pytest.mark.skipif(not isolate.available(), reason="a /dev/shm of its own needs the isolated child (root on Linux)")
def test_each_run_has_its_own_dev_shm_and_nothing_there_outlives_it():
    name = f"cnn-grade-test-{os.getpid()}"
    writer = f"import os\ndef write():\n    open('/dev/shm/{name}', 'w').write('x')\n    return sorted(os.listdir('/dev/shm'))\n"
    reader = "import os\ndef look():\n    return sorted(os.listdir('/dev/shm'))\n"
    with Sandbox(writer, "w.py") as first, Sandbox(reader, "r.py") as second:
        assert name in first.call("write")
        assert not Path("/dev/shm", name).exists()  # not in the machine's /dev/shm, while the run is alive
        assert name not in second.call("look")  # nor in the next student's
    assert not Path("/dev/shm", name).exists()


def test_libraries_that_cannot_load_under_the_cap_are_a_setup_error(monkeypatch):
    monkeypatch.setattr(zygote, "_enabled", False)  # a fresh child imports under the cap (a zygote's fork has them)
    with Sandbox("def f():\n    return 1\n", "x.py", imports=("numpy", "torch"), memory_mb=48) as sandbox:
        with pytest.raises(GraderSetupError) as caught:
            sandbox.call("f")
    message = str(caught.value)
    assert "48 MiB" in message and "--memory" in message and "No student code was run" in message


@pytest.fixture
def broken_environment(monkeypatch):
    """Exercise 4 as if a library it needs were missing from this Python (the child cannot import it)."""
    real = resolve("exercise4")
    broken = replace(real, child_imports=(*real.child_imports, "cnn_grade_no_such_library"))
    monkeypatch.setattr(engine, "resolve", lambda name: broken if resolve(name).name == "exercise4" else resolve(name))
    return broken


def test_a_broken_environment_is_a_tool_error_not_a_failed_check(broken_environment):
    result = CliRunner().invoke(cli, ["exercise4", "--file", str(ROOT / "solutions" / "exercise4.py")])
    assert result.exit_code == 2, result.output
    assert "Grader setup failed" in result.output and "cnn_grade_no_such_library" in result.output
    assert "Traceback" not in result.output and "✗" not in result.output


def test_batch_cell_says_grader_setup_failed(broken_environment, tmp_path):
    from grader.classroom.batch_worker import grade_task

    reply = grade_task({"id": 1, "exercise": "exercise4", "file": str(ROOT / "solutions" / "exercise4.py"),
                        "seed": None, "timeout": 10.0, "feedback": str(tmp_path / "exercise4.txt")})
    assert reply["status"] == "error" and reply["retry"] is True
    assert reply["message"].startswith("Grader setup failed")


def test_gradescope_results_say_the_autograder_is_misconfigured(broken_environment, tmp_path):
    from grader.classroom.autograder import CONFIG, autograde

    (tmp_path / "source").mkdir()
    (tmp_path / "source" / CONFIG).write_text(json.dumps({"exercise": "exercise4", "seed": None}))
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "exercise4.py").write_text((ROOT / "solutions" / "exercise4.py").read_text())
    assert autograde(tmp_path) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and "autograder is misconfigured" in results["output"]
    assert "not a verdict on your code" in results["output"] and "memory" not in results["output"].lower()
