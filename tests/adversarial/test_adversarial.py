"""Hostile submissions graded for real: none may pass a check it should not, break the grader, or outlive the run.

Each case's expectations are in its file's docstring (see cases.py). Cases listed in KNOWN break a rule
today. They xfail only while they show exactly their known problems: any other problem fails the test,
and once the known problem is gone the test fails too, asking for the entry to be removed (a strict xfail
that also checks the reason).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest

from grader.grading.exercises import resolve
from grader.grading.results import STATUSES
from grader.sandbox import isolate
from grader.sandbox.parent import OUTPUT_CAP

from . import procs
from .cases import all_cases
from .runner import RUN_VARIABLE, run_cli, run_engine

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
OUTLIVES = "outlived it"
CGROUP = "cgroup left behind"
WRONG = ("wrong passes", "statuses ", "the report lists checks")


@dataclass(frozen=True)
class Known:
    """A rule a case breaks today: why, and the words of the problems it shows (any other problem is a failure)."""

    reason: str
    symptoms: tuple[str, ...]


ISOLATED = isolate.available()  # each child gets its own PID and mount namespaces (root on Linux)
KNOWN: dict[str, Known] = {
    # Student code shares its Python process with the child's code that turns results into data.
    "monkeypatch_via_gc_torch": Known("gc.get_objects() finds the namespace of the child's layer-description code "
                                      "and patches it: no_conv_bias trusts that description (exercise 1 refuses gc "
                                      "by reading the code; the torch exercises cannot)", WRONG),
}
if not ISOLATED:  # without namespaces the child shares the grader's process tree and /proc
    KNOWN.update({
        # Processes that leave the sandbox for good.
        "escape_everything": Known("a daemon that calls setsid and execs with an empty environment is found by "
                                   "neither session, marker nor cgroup: it outlives the run", (OUTLIVES,)),
        "forge_output_later": Known("the same escaped daemon rewrites --output after the grader wrote it: the file "
                                    "left is forged", (OUTLIVES, *WRONG)),
        "kill_parent_after_fork": Known("when the grader is SIGKILLed, the student's daemon lives on: the "
                                        "parent-death signal covers only the direct child", (OUTLIVES, CGROUP)),
        "signal_parent_sigterm": Known("the child can signal its parent; a grader ended by SIGTERM leaves its "
                                       "sandbox's (empty) pids cgroup behind", (CGROUP,)),
        "stop_parent": Known("SIGSTOP from the child freezes the grader: the run never ends",
                             ("did not finish", CGROUP)),
        "torch_blocker_bypass": Known("the child's import blocker sits in sys.meta_path, which student code can edit "
                                      "(getattr(sys, 'meta' + '_path')); torch then computes every value", WRONG),
    })
    if ROOT:  # a non-dumpable grader keeps its /proc entries from the same user, but not from root
        KNOWN["forge_parent_stdout"] = Known("the child, root like the grader, opens /proc/<grader>/fd/1 and writes "
                                             "a forged report into the grader's stdout",
                                             ("not one JSON document", *WRONG))
        KNOWN["read_grader_secrets"] = Known("the child, root like the grader, reads /proc/<grader>/environ: "
                                             "secrets scrubbed from its own environment come back", ("the secret",))
CASES = all_cases()


def params(via: str) -> list:
    return [pytest.param(case, id=case.name) for case in CASES if case.via == via]


def judge(outcome) -> None:
    """No problem at all, or exactly the case's known ones (then xfail with the reason)."""
    known = KNOWN.get(outcome.case.name)
    problems = outcome.problems()
    if known is None:
        assert outcome.grader_crash == ""
        assert outcome.wrong_passes == []
        assert problems == []
        return
    unexplained = [p for p in problems if not any(word in p for word in known.symptoms)]
    assert unexplained == [], f"besides its known problem ({known.reason}): {unexplained}"
    if not problems:
        pytest.fail(f"{outcome.case.name} no longer shows its known problem ({known.reason}): remove it from KNOWN")
    pytest.xfail(known.reason)


@pytest.fixture(autouse=True)
def nothing_left_behind(monkeypatch):
    """After each test no process started below this one survives, and every cgroup made here is gone."""
    from grader.sandbox.cgroups import Cgroups

    made = []
    create = Cgroups.create.__func__

    def recording(cls, *args, **kwargs):
        group = create(cls, *args, **kwargs)
        if group is not None:
            made.extend(group.folders)
        return group

    monkeypatch.setattr(Cgroups, "create", classmethod(recording))
    yield
    left = procs.settle(procs.descendants)
    procs.end(left)
    assert not left, f"processes below the test process outlived it: {left}"
    assert not [f for f in made if f.exists()], f"cgroups left behind: {made}"


@pytest.fixture(scope="module", autouse=True)
def nothing_left_at_the_end():
    """Once the whole suite has run, no process carries a run's environment marker or a submission's marker."""
    yield
    tagged = [pid for pid, (_, state, cmd) in procs.table().items() if b"cnn-adv-" in cmd and state != "Z"]
    tagged += procs.with_environment(f"{RUN_VARIABLE}=")
    procs.end(tagged)
    assert not tagged, f"processes of the adversarial runs are still alive: {tagged}"


def test_the_suite_holds_enough_well_formed_cases():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)
    for case in CASES:
        checks = {spec.name for spec in resolve(case.exercise).checks()}
        assert case.statuses and case.statuses <= set(STATUSES), case.name
        assert case.passes is None or case.passes <= checks, f"{case.name}: unknown check in passes"
        assert case.checks is None or set(case.checks) <= checks, f"{case.name}: unknown check in checks"
        assert ("passed" in case.statuses) == bool(case.passes), f"{case.name}: statuses and passes disagree"
    assert set(KNOWN) <= {c.name for c in CASES}
    assert set(THROUGH_THE_ZYGOTE) <= {c.name for c in CASES if c.via == "engine"}


@pytest.mark.parametrize("case", params("engine"))
def test_hostile_submission(case, tmp_path):
    outcome = run_engine(case, tmp_path)
    assert outcome.report is None or len(outcome.report.captured_output) <= OUTPUT_CAP
    judge(outcome)


# Hostility aimed at processes and limits, once more with children forked from a zygote (batch, --watch, verify).
THROUGH_THE_ZYGOTE = ("escape_everything", "double_fork_setsid", "fork_bomb_bounded", "fork_linger", "sigkill_self",
                      "sigkill_own_group", "ctypes_segfault", "memory_growth", "loop_ignoring_signals",
                      "os_exit_in_call", "torch_blocker_bypass", "monkeypatch_grader_probes", "read_requests",
                      "write_protocol_fds", "seed_in_environment")


@pytest.mark.skipif(not ISOLATED, reason="the zygote is used only where namespaces are")
@pytest.mark.parametrize("case", [p for p in params("engine") if p.values[0].name in THROUGH_THE_ZYGOTE])
def test_hostile_submission_through_the_zygote(case, tmp_path):
    from grader.sandbox import zygote

    assert zygote.enable()
    try:
        outcome = run_engine(case, tmp_path)
    finally:
        zygote.disable()
    judge(outcome)


@pytest.mark.parametrize("case", params("cli"))
def test_hostile_submission_attacking_the_grader_process(case, tmp_path):
    outcome = run_cli(case, tmp_path)
    assert outcome.returncode != 0
    if case.name not in KNOWN and outcome.document is not None:  # the grade came out: it must be the grader's own
        assert "forged" not in outcome.document
        assert outcome.document["score"] == 0.0
        assert outcome.document["exercise"] == case.exercise
    judge(outcome)


def test_a_hundred_megabytes_of_prints_are_capped_and_fast(tmp_path):
    case = next(c for c in CASES if c.name == "print_flood")
    outcome = run_engine(case, tmp_path)
    assert outcome.report.output_truncated is True
    assert 0 < len(outcome.report.captured_output) <= OUTPUT_CAP
    assert outcome.seconds < 30
    assert outcome.problems() == []


def test_a_forged_report_on_the_output_path_is_replaced_by_the_genuine_one(tmp_path):
    case = next(c for c in CASES if c.name == "forge_output_file")
    outcome = run_cli(case, tmp_path)
    written = json.loads((tmp_path / "report.json").read_text())
    assert "forged" not in written
    assert written["score"] == 0.0 and written["max_score"] == 19.0
    assert {c["status"] for c in written["checks"]} == {"failed"}
    assert not list(tmp_path.glob(".report.json.*"))  # no temporary file of the atomic write is left
    assert outcome.problems() == []
