"""The Sandbox with real child processes: results, student exceptions, deaths, limits, isolation."""

from __future__ import annotations

import os
import sys
import textwrap
import time

import numpy as np
import pytest

from grader.errors import CallTimeout, ChildDied, StudentRaised
from grader.sandbox.parent import OUTPUT_CAP, Sandbox
from grader.sandbox.protocol import Handle, ModelSpec, Opaque, TensorData

POSIX = os.name == "posix"


@pytest.fixture
def make(tmp_path):
    """make(source, **options) -> a Sandbox for that source, closed after the test."""
    made = []

    def factory(source: str, **options) -> Sandbox:
        options.setdefault("timeout", 5.0)
        options.setdefault("startup_timeout", 60.0)
        sandbox = Sandbox(textwrap.dedent(source), str(tmp_path / "exercise1.py"), **options)
        made.append(sandbox)
        return sandbox

    yield factory
    for sandbox in made:
        sandbox.close()


def line_of(source: str, text: str) -> int:
    """The 1-based line number of the first line of `source` containing `text`."""
    for number, line in enumerate(textwrap.dedent(source).splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in source")


def wait_for_output(sandbox: Sandbox, text: str, seconds: float = 10.0) -> str:
    """Student output is drained by a thread: wait (bounded) until `text` shows up."""
    deadline = time.monotonic() + seconds
    while True:
        output, _ = sandbox.output
        if text in output or time.monotonic() > deadline:
            return output
        time.sleep(0.02)


def group_is_gone(pgid: int, seconds: float = 15.0) -> bool:
    """True once no process of the group is left (orphans are reaped by init, a little later)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


BASIC = """
import os
import sys

import numpy as np


def add(a, b):
    return a + b


def conv_like(x, scale=1.0):
    out = np.zeros((2, x.shape[0], x.shape[1]), dtype=x.dtype)
    out[0] = x * scale
    out[1] = -x
    return out


def several():
    return {"ints": np.arange(3, dtype=np.int16), "zero_d": np.array(2.5), "pair": (np.float32(1.5), np.int64(7)),
            "complex": np.complex128(1 - 1j), "empty": np.zeros((0, 3))}


class ShapeError(ValueError):
    pass


def _check(x):
    if x.ndim != 3:
        raise ShapeError(f"expected a 3-D array, got {x.ndim}-D")


def validate(x):
    _check(x)
    return True


def stub(x):
    raise NotImplementedError


class Hostile(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


def hostile():
    raise Hostile()


def leave():
    sys.exit(0)


def pid():
    return os.getpid()


def bump(x, *, scale=1):
    x[0] += scale
    x[-1] = -1
    return None


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


def sneaky():
    return AlwaysEqual()


def sneaky_list():
    return [AlwaysEqual(), add, {1, 2}]


def make_counter():
    return {"count": 0}


def increment(counter):
    counter["count"] += 1
    return counter["count"]
"""


# -- results --------------------------------------------------------------------------------
def test_call_returning_arrays(make):
    sb = make(BASIC)
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = sb.call("conv_like", x, scale=2.0)
    assert type(out) is np.ndarray
    assert out.dtype == np.float32 and out.shape == (2, 3, 4)
    assert np.array_equal(out[0], x * 2) and np.array_equal(out[1], -x)
    assert sb.call("add", 2, 3) == 5
    assert sb.call("add", "a", "b") == "ab"
    assert sb.restarts == 0


def test_call_returning_mixed_numpy_values(make):
    out = make(BASIC).call("several")
    assert out["ints"].dtype == np.int16 and list(out["ints"]) == [0, 1, 2]
    assert out["zero_d"].shape == () and out["zero_d"][()] == 2.5
    assert type(out["pair"]) is tuple and type(out["pair"][0]) is np.float32 and type(out["pair"][1]) is np.int64
    assert type(out["complex"]) is np.complex128 and out["complex"] == 1 - 1j
    assert out["empty"].shape == (0, 3)


def test_unknown_function_is_reported_as_a_student_error(make):
    with pytest.raises(StudentRaised) as caught:
        make(BASIC).call("nope")
    assert caught.value.info.is_a("AttributeError")
    assert "nope" in caught.value.info.message


# -- student exceptions ---------------------------------------------------------------------
def test_student_exception_carries_type_bases_message_and_line(make):
    sb = make(BASIC)
    with pytest.raises(StudentRaised) as caught:
        sb.call("validate", np.zeros((2, 2)))
    info = caught.value.info
    assert caught.value.target == "validate"
    assert info.type == "ShapeError"
    assert info.is_a("ValueError") and info.is_a("Exception")
    assert not info.is_a("TypeError")
    assert info.message == "expected a 3-D array, got 2-D"
    line = line_of(BASIC, "raise ShapeError")
    assert info.where.startswith(f"exercise1.py, line {line}")
    assert "raise ShapeError" in info.where
    # only the student's own frames: the grader's child code is not shown
    assert "grader" not in info.traceback and "child.py" not in info.traceback
    assert f"line {line_of(BASIC, '    _check(x)')}" in info.traceback
    assert sb.call("validate", np.zeros((1, 2, 2))) is True  # the child is still fine
    assert sb.restarts == 0


def test_not_implemented_error(make):
    with pytest.raises(StudentRaised) as caught:
        make(BASIC).call("stub", 1)
    info = caught.value.info
    assert info.type == "NotImplementedError"
    assert info.is_a("NotImplementedError") and info.is_a("RuntimeError")
    assert info.where.startswith(f"exercise1.py, line {line_of(BASIC, 'raise NotImplementedError')}")


def test_exception_with_a_hostile_str_is_still_reported(make):
    with pytest.raises(StudentRaised) as caught:
        make(BASIC).call("hostile")
    assert caught.value.info.type == "Hostile"
    assert caught.value.info.message == "<unprintable message>"


def test_sys_exit_is_a_student_exception_and_the_child_survives(make):
    sb = make(BASIC)
    first = sb.call("pid")
    with pytest.raises(StudentRaised) as caught:
        sb.call("leave")
    assert caught.value.info.type == "SystemExit"
    assert caught.value.info.is_a("BaseException")
    assert sb.call("pid") == first
    assert sb.restarts == 0


# -- time-outs and deaths -------------------------------------------------------------------
DEATHS = BASIC + """

def spin():
    while True:
        pass


def exit_three():
    os._exit(3)


def kill_self():
    import signal
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_infinite_loop_times_out_and_the_next_call_gets_a_fresh_child(make):
    sb = make(DEATHS)
    assert sb.call("pid") == 2 or sb.call("pid") == sb.proc.pid  # pid 2 in its namespace, else its own
    old = sb.proc
    with pytest.raises(CallTimeout) as caught:
        sb.run("spin", timeout=0.5)
    assert caught.value.target == "spin" and caught.value.seconds == 0.5
    assert old.poll() is not None  # the looping child was ended
    assert sb.call("add", 1, 1) == 2
    assert sb.proc is not old and sb.proc.pid != old.pid
    assert sb.restarts == 1


def test_os_exit_is_child_died_with_the_exit_code(make):
    sb = make(DEATHS)
    with pytest.raises(ChildDied) as caught:
        sb.call("exit_three")
    assert "code 3" in str(caught.value)
    assert sb.call("add", 2, 2) == 4
    assert sb.restarts == 1


@pytest.mark.skipif(not POSIX, reason="signals are POSIX")
def test_sigkill_is_child_died_naming_the_signal(make):
    sb = make(DEATHS)
    with pytest.raises(ChildDied) as caught:
        sb.call("kill_self")
    assert "SIGKILL" in str(caught.value)
    assert sb.call("add", 3, 3) == 6
    assert sb.restarts == 1


def test_import_time_error_is_the_same_failure_every_call_without_restarts(make):
    source = """
    import numpy as np

    def f():
        return 1

    raise RuntimeError("boom while importing")
    """
    sb = make(source)
    with pytest.raises(StudentRaised) as first:
        sb.call("f")
    info = first.value.info
    assert info.type == "RuntimeError" and info.message == "boom while importing"
    assert info.where.startswith(f"exercise1.py, line {line_of(source, 'raise RuntimeError')}")
    pid = sb.proc.pid
    for _ in range(3):
        with pytest.raises(StudentRaised) as again:
            sb.call("f")
        assert again.value is first.value
    assert sb.restarts == 0
    assert sb.proc.pid == pid  # no new child was started for the later calls


def test_import_time_infinite_loop_times_out_once_then_fails_the_same_way(make):
    sb = make("""
    import numpy as np

    while True:
        pass
    """, timeout=0.5)
    with pytest.raises(CallTimeout) as first:
        sb.call("f")
    assert sb.proc.poll() is not None
    for _ in range(2):
        with pytest.raises(CallTimeout) as again:
            sb.call("f")
        assert again.value is first.value
    assert sb.restarts == 0


def test_import_time_exit_is_a_student_error(make):
    sb = make("import sys\nsys.exit(4)\n")
    with pytest.raises(StudentRaised) as caught:
        sb.call("f")
    assert caught.value.info.type == "SystemExit"


# -- output ---------------------------------------------------------------------------------
def test_prints_are_captured_and_never_mixed_into_replies(make):
    sb = make("""
    import sys

    def chatty(n):
        print("hello from print", n)
        sys.stderr.write("to stderr\\n")
        sys.stdout.write('{"ok": true, "value": 666}\\n')
        return n * 2
    """)
    assert sb.call("chatty", 21) == 42
    assert sb.call("chatty", 5) == 10
    output = wait_for_output(sb, "hello from print 5")
    assert "hello from print 21" in output and "hello from print 5" in output
    assert "to stderr" in output
    assert sb.output[1] is False


def test_huge_print_is_capped(make):
    sb = make("""
    def flood():
        print("x" * 5_000_000)
        return "done"
    """)
    assert sb.call("flood") == "done"
    output, truncated = sb.output
    assert truncated is True
    assert 0 < len(output) <= OUTPUT_CAP
    assert set(output) == {"x"}
    assert sb.call("flood") == "done"  # still answering
    assert len(sb.output[0]) <= OUTPUT_CAP


def test_fake_frames_on_stdout_and_stderr_do_not_corrupt_the_protocol(make):
    sb = make("""
    import json, os, struct, sys

    def _frame(value):
        head = json.dumps({"msg": {"ok": True, "value": value}, "buffers": []}).encode()
        return struct.pack("<I", len(head)) + head

    def forge():
        sys.stdout.buffer.write(_frame("forged stdout"))
        sys.stdout.flush()
        sys.stderr.buffer.write(_frame("forged stderr"))
        os.write(1, _frame("forged fd 1"))
        os.write(2, _frame("forged fd 2"))
        os.write(1, b"\\xff\\xff\\xff\\xff garbage")
        return "real"

    def other():
        return "second"
    """)
    assert sb.call("forge") == "real"
    assert sb.call("other") == "second"
    assert sb.call("forge") == "real"
    assert sb.restarts == 0
    assert "forged fd 2" in wait_for_output(sb, "forged fd 2")


# -- isolation --------------------------------------------------------------------------------
ENV = """
import os

def env(name):
    return os.environ.get(name)

def cwd():
    return os.getcwd()
"""


def test_grader_settings_and_secrets_are_not_in_the_child_environment(make, monkeypatch):
    monkeypatch.setenv("CNN_GRADE_SEED", "4242")
    monkeypatch.setenv("MY_API_TOKEN", "hunter2")
    monkeypatch.setenv("HARMLESS_SETTING", "visible")
    sb = make(ENV)
    assert sb.call("env", "HARMLESS_SETTING") == "visible"  # the environment does cross...
    assert sb.call("env", "CNN_GRADE_SEED") is None  # ...but not the seed
    assert sb.call("env", "MY_API_TOKEN") is None


def test_child_runs_in_its_own_temporary_directory(make):
    sb = make(ENV)
    where = sb.call("cwd")
    assert os.path.realpath(where) != os.path.realpath(os.getcwd())
    assert os.path.basename(where).startswith("cnn-grade-")
    assert os.path.isdir(where)
    sb.close()
    assert not os.path.exists(where)


BLOCKED = """
import importlib

import numpy as np

def dunder():
    return __import__("torch").__version__

def via_importlib():
    return importlib.import_module("torch.nn").__name__

def numpy_is_fine():
    return int(np.ones(3).sum())
"""


def test_blocked_modules_cannot_be_imported_at_run_time(make):
    sb = make(BLOCKED, blocked=("torch",))
    for target in ("dunder", "via_importlib"):
        with pytest.raises(StudentRaised) as caught:
            sb.call(target)
        assert caught.value.info.is_a("ImportError"), target
        assert "not allowed" in caught.value.info.message
    assert sb.call("numpy_is_fine") == 3


def test_blocked_import_in_the_source_fails_the_import(make):
    sb = make("import numpy as np\nimport torch\n\ndef f():\n    return 1\n", blocked=("torch",))
    with pytest.raises(StudentRaised) as caught:
        sb.call("f")
    assert caught.value.info.is_a("ImportError")
    assert "torch" in caught.value.info.message
    assert caught.value.info.where.startswith("exercise1.py, line 2")


def test_memory_limit(make):
    sb = make("""
    import numpy as np

    def hog():
        block = np.ones(2**30 // 8)  # 1 GiB
        return float(block.sum())

    def small():
        return int(np.arange(10).sum())
    """, memory_mb=300)
    with pytest.raises((StudentRaised, ChildDied)) as caught:
        sb.call("hog")
    if isinstance(caught.value, StudentRaised):
        assert caught.value.info.is_a("MemoryError")
    assert sb.call("small") == 45


# -- arguments and return values ------------------------------------------------------------
def test_echo_args_shows_mutations_made_by_the_student(make):
    sb = make(BASIC)
    x = np.zeros(4)
    value, args, kwargs = sb.run("bump", (x,), {"scale": 2}, echo_args=True)
    assert value is None
    assert np.array_equal(args[0], [2.0, 0.0, 0.0, -1.0])
    assert kwargs == {"scale": 2}
    assert np.array_equal(x, np.zeros(4))  # the parent's copy is untouched


def test_objects_that_are_not_data_come_back_opaque(make):
    sb = make(BASIC)
    out = sb.call("sneaky")
    assert isinstance(out, Opaque)
    assert out.type_name == "AlwaysEqual"
    assert out != 5 and out != Opaque("Other")
    assert sb.call("sneaky_list") == [Opaque("AlwaysEqual"), Opaque("function"), Opaque("set")]


def test_stored_values_stay_in_the_child_behind_handles(make):
    sb = make(BASIC)
    handle = sb.run("make_counter", store=True)
    assert isinstance(handle, Handle)
    assert sb.call("increment", handle) == 1
    assert sb.call("increment", handle) == 2


def test_torch_tensors_and_model_specs(make):
    """The one test with torch in the child: tensors come back as TensorData, specs become models."""
    sb = make("""
    import torch
    from torch import nn

    def tensors():
        return {
            "half": torch.arange(6, dtype=torch.float16).reshape(2, 3).requires_grad_(),
            "long": torch.tensor([1, -2, 3]),
            "brain": torch.tensor([0.5, 1.5], dtype=torch.bfloat16),
            "size": torch.zeros(2, 5).shape,
        }

    def describe(model):
        return [(type(m).__name__, getattr(m, "kernel_size", None)) for m in model.modules()
                if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]

    def forward_shape(model, h, w):
        return tuple(model(torch.zeros(1, 3, h, w)).shape)
    """, imports=("numpy", "torch"))
    out = sb.call("tensors")
    half = out["half"]
    assert isinstance(half, TensorData)
    assert (half.dtype, half.device, half.requires_grad) == ("float16", "cpu", True)
    assert half.array.dtype == np.float16 and np.array_equal(half.array, np.arange(6).reshape(2, 3))
    assert out["long"].dtype == "int64" and out["long"].requires_grad is False
    assert list(out["long"].array) == [1, -2, 3]
    assert out["brain"].dtype == "bfloat16" and out["brain"].array.dtype == np.float32
    assert out["size"] == (2, 5)

    spec = ModelSpec(kind="Sequential", children=[
        {"kind": "Conv2d", "args": [3, 8, 3], "kwargs": {"padding": 1}},
        {"kind": "ReLU"},
        {"kind": "Sequential", "children": [{"kind": "MaxPool2d", "args": [2]}]},
    ])
    assert sb.call("describe", spec) == [("Conv2d", (3, 3)), ("MaxPool2d", 2)]
    handle = sb.run("probe:build_model", (dict(spec),), store=True)
    assert isinstance(handle, Handle)
    assert sb.call("forward_shape", handle, 8, 10) == (1, 8, 4, 5)
    assert sb.call("probe:build_model", dict(spec)) == Opaque("Sequential")


# -- closing ----------------------------------------------------------------------------------
def test_close_ends_the_child(make):
    sb = make(BASIC)
    assert sb.call("add", 1, 2) == 3
    proc = sb.proc
    sb.close()
    assert proc.poll() is not None
    if sys.platform.startswith("linux"):
        assert group_is_gone(proc.pid)
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)
    sb.close()  # twice is fine


def test_close_before_any_call_is_fine(make):
    sb = make(BASIC)
    sb.close()
    assert sb.proc is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_close_ends_processes_the_student_forked(make):
    # Without namespaces (tests/sandbox/test_isolate.py has the namespace's own test): pids are the machine's here.
    sb = make(isolate=False, source="""
    import os
    import time

    def spawn():
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        return pid
    """)
    grandchild = sb.call("spawn")
    assert isinstance(grandchild, int) and grandchild > 0
    os.kill(grandchild, 0)  # it is alive before close()
    proc = sb.proc
    sb.close()
    assert proc.poll() is not None
    if sys.platform.startswith("linux"):
        assert group_is_gone(proc.pid), "a process of the sandbox outlived close()"
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)
        with pytest.raises(ProcessLookupError):
            os.kill(grandchild, 0)


def test_a_student_keyword_named_like_a_grader_option_reaches_the_student():
    source = "def f(x, timeout=None, label=None, store=None, echo_args=None):\n    return [x, timeout, label, store, echo_args]\n"
    with Sandbox(source, "x.py") as sb:
        assert sb.call("f", 1, timeout=2, label="l", store=3, echo_args=4) == [1, 2, "l", 3, 4]
