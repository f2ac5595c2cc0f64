"""Children forked from a zygote: as isolated and as limited as those started fresh, only faster to start."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from grader.grading.engine import grade_exercise
from grader.errors import CallTimeout, ChildDied, StudentRaised
from grader.grading.exercises import ARRAY_LIBRARIES
from grader.sandbox import isolate, zygote
from grader.sandbox.parent import Sandbox
from grader.sandbox.zygote import ForkedChild
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(not isolate.available(), reason="the zygote is used only where namespaces are")


@pytest.fixture
def forks():
    assert zygote.enable()
    yield
    zygote.disable()


def sandbox(tmp_path: Path, source: str, **options) -> Sandbox:
    options.setdefault("timeout", 10.0)
    return Sandbox(textwrap.dedent(source), str(tmp_path / "exercise1.py"), **options)


SOURCE = """
    import os, random
    import numpy as np

    def who():
        caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
        return {"pid": os.getpid(), "procs": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                "cwd": os.getcwd(), "env": sorted(os.environ), "sid_is_own": os.getsid(0) != 0,
                "caps": caps, "random": [random.random(), float(np.random.rand())]}

    def die(how):
        if how == "exit":
            os._exit(3)
        os.kill(os.getpid(), signal_number(how))

    def signal_number(name):
        import signal
        return int(getattr(signal, name))

    def spin():
        while True:
            pass
"""


def test_a_forked_child_is_isolated_like_a_fresh_one(forks, tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_GRADE_SEED", "12345")  # the instructor's seed must not reach the child
    with sandbox(tmp_path, SOURCE) as first, sandbox(tmp_path, SOURCE) as second:
        a, b = first.call("who"), second.call("who")
        assert isinstance(first.proc, ForkedChild) and isinstance(second.proc, ForkedChild)
        workdirs = (first._workdir.name, second._workdir.name)
    for seen, workdir in zip((a, b), workdirs):
        assert seen["pid"] == 2 and seen["procs"] == [1, 2]
        assert os.path.realpath(seen["cwd"]) == os.path.realpath(workdir)
        assert "CNN_GRADE_SEED" not in seen["env"] and "CNN_SANDBOX_TOKEN" in seen["env"]
        assert int(seen["caps"], 16) == 0
    assert a["random"] != b["random"]  # each fork gets its own random state, as a fresh Python would


def test_deaths_and_timeouts_are_reported_and_the_next_call_gets_a_new_fork(forks, tmp_path):
    with sandbox(tmp_path, SOURCE) as box:
        with pytest.raises(ChildDied) as died:
            box.call("die", "SIGSEGV")
        assert "SIGSEGV" in str(died.value)
        with pytest.raises(ChildDied) as died:
            box.call("die", "exit")
        assert "code 3" in str(died.value)
        with pytest.raises(CallTimeout):
            box.run("spin", timeout=0.5)
        assert box.call("who")["pid"] == 2
        assert box.restarts == 3 and isinstance(box.proc, ForkedChild)


def test_exercise_one_children_still_refuse_torch(forks, tmp_path):
    source = """
        import sys, pkgutil
        def sneak():
            finders = getattr(sys, "meta" + "_path")
            finders[:] = [f for f in finders if "Block" not in type(f).__name__]
            return pkgutil.resolve_name("torch").nn.functional.conv2d
    """
    with sandbox(tmp_path, source, blocked=ARRAY_LIBRARIES) as box:
        with pytest.raises(StudentRaised) as raised:
            box.call("sneak")
        assert isinstance(box.proc, ForkedChild)
    assert raised.value.info.type == "ImportError"


def test_a_killed_zygote_is_replaced(forks, tmp_path):
    with sandbox(tmp_path, SOURCE) as box:
        box.call("who")
        old = zygote.spawner(("numpy",))
    os.kill(old.proc.pid, signal.SIGKILL)
    old.proc.wait(timeout=10)
    for _ in range(100):  # its socket closes: the listener notices
        if not old.alive():
            break
        time.sleep(0.01)
    with sandbox(tmp_path, SOURCE) as box:
        assert box.call("who")["pid"] == 2
        assert isinstance(box.proc, ForkedChild) and box.proc.zygote is not old


@pytest.mark.parametrize("exercise, name", [("exercise1", "bad_no_padding.py"), ("exercise4", "bad_no_final_relu.py"),
                                            ("exercise2", None)])
def test_grades_through_the_zygote_equal_grades_from_fresh_children(tmp_path, exercise, name):
    if name is None:  # a stub: every check fails
        path = REPO / "exercises" / f"{exercise}.py"
    else:
        path = REPO / "tests" / "submissions" / exercise / name
    fresh = grade_exercise(exercise, submission=path)
    assert zygote.enable()
    try:
        forked = grade_exercise(exercise, submission=path)
    finally:
        zygote.disable()
    assert [(c.name, c.status, c.score) for c in forked.checks] == [(c.name, c.status, c.score) for c in fresh.checks]
    assert forked.score < forked.max_score
    assert forked.score > 0 or name is None
