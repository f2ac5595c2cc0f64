"""The Context's fingerprint: a digest of what student code returned in one check, equal for equal wrong answers."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from grader.grading.context import Context
from grader.grading.engine import grade_exercise
from grader.sandbox.parent import Sandbox

from ..conftest import REPO, SUBMISSIONS

EX1 = SUBMISSIONS / "exercise1"
SOURCE = """
import numpy as np

class Box:
    pass

def same(x):
    return x

def as_float32(x):
    return np.asarray(x, dtype=np.float32)

def nested():
    return {"a": [1, 2.5, (3, "x")], "b": np.arange(4).reshape(2, 2)}

def nothing():
    return None
"""


def failed_fingerprints(path, seed=None) -> dict[str, str]:
    report = grade_exercise("exercise1", submission=path, seed=seed)
    return {c.name: c.fingerprint for c in report.checks if c.status == "failed"}


def test_copies_of_a_wrong_file_under_other_names_share_each_fingerprint(tmp_path):
    first, second = tmp_path / "ann" / "exercise1.py", tmp_path / "a copy" / "my_conv.py"
    for path in (first, second):
        path.parent.mkdir()
        shutil.copy(EX1 / "bad_no_padding.py", path)
    ann, copy = failed_fingerprints(first), failed_fingerprints(second)
    assert ann and ann == copy
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ann.values())  # 16 bytes, in hex


def test_two_different_mistakes_failing_one_check_differ():
    padding = failed_fingerprints(EX1 / "bad_no_padding.py")
    flipped = failed_fingerprints(EX1 / "bad_flipped_kernel.py")
    shared = set(padding) & set(flipped)
    assert "values_padding" in shared
    assert all(padding[name] != flipped[name] for name in shared)


def test_the_key_has_no_fingerprint():
    report = grade_exercise("exercise1", submission=REPO / "solutions" / "exercise1.py")
    assert all(c.passed and c.fingerprint == "" for c in report.checks)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SOURCE, "student.py") as box:
        yield box


def digest(sandbox, *calls) -> str:
    """The fingerprint of a fresh Context after these (kind, name, args) calls."""
    ctx = Context(sandbox, seed=1, device="cpu", check_name="check")
    for kind, name, *args in calls:
        getattr(ctx, kind)(name, *args)
    return ctx.fingerprint()


def test_a_digest_of_values_only_kind_and_order_matter(sandbox):
    x = np.arange(6, dtype=np.float64)
    assert digest(sandbox) == ""  # nothing returned
    assert digest(sandbox, ("new", "Box")) == ""  # a handle is not data
    one = digest(sandbox, ("call", "same", x))
    assert one and one == digest(sandbox, ("call", "same", x))
    assert one == digest(sandbox, ("new", "Box"), ("call", "same", x))
    assert one != digest(sandbox, ("call", "same", x.reshape(2, 3)))  # same bytes, another shape
    assert one != digest(sandbox, ("call", "as_float32", x))  # another dtype
    assert one != digest(sandbox, ("call", "same", x + 1e-12))
    nested = digest(sandbox, ("call", "nested"))
    assert nested and nested != digest(sandbox, ("call", "nested"), ("call", "nested"))
    assert digest(sandbox, ("call", "same", [1, 2]), ("call", "same", 3)) != digest(
        sandbox, ("call", "same", [1]), ("call", "same", (2, 3)))
    assert digest(sandbox, ("call", "nothing")) != ""  # returning None is an answer
    assert digest(sandbox, ("call_echo", "same", x)) not in ("", one)  # the arguments as they were after the call
