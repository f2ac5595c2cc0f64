"""Grading one hostile submission — in this process, or as `python -m grader` — and judging what came of it."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import traceback
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import procs
from .cases import Case

RUN_VARIABLE = "CNN_ADV_RUN"  # set for each run: every process it starts inherits it, unless it wipes its environment
CLI_SLACK = 12.0  # seconds a cli run may take beyond its total time limit (Python and torch start-up)
CLI_OPTIONS = {"timeout": "--timeout", "total_timeout": "--total-timeout", "memory_mb": "--memory"}


@dataclass
class Outcome:
    """What one run produced and what it left behind."""

    case: Case
    expected_checks: tuple[str, ...]
    statuses: dict[str, str] = field(default_factory=dict)  # check -> status, as the grader reported it
    messages: dict[str, str] = field(default_factory=dict)
    report: object = None  # the Report of an in-process run
    document: dict | None = None  # the JSON report a cli run wrote (file or stdout), if any
    grader_crash: str = ""  # the grader raised, printed a traceback, hung, or said "internal grader error"
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    written: str = ""  # the --output file's text after the run
    seconds: float = 0.0
    leftovers: list[int] = field(default_factory=list)  # processes of the run still alive after it (then ended)
    cgroup_left: str = ""  # a cgroup of the sandbox's, if the submission named it and it still exists after the run
    folder: Path | None = None

    @property
    def wrong_passes(self) -> list[str]:
        allowed = self.case.passes
        return sorted(n for n, s in self.statuses.items() if s == "passed" and allowed is not None and n not in allowed)

    def problems(self) -> list[str]:
        """Every way this outcome breaks the rules of the suite, in words; empty when all is well."""
        case, found = self.case, []
        if self.grader_crash:
            found.append(f"grader crash: {self.grader_crash}")
        if self.wrong_passes:
            found.append(f"wrong passes: {', '.join(self.wrong_passes)}")
        have_report = self.report is not None or self.document is not None
        if have_report:
            if sorted(self.statuses) != sorted(self.expected_checks):
                found.append(f"the report lists checks {sorted(self.statuses)}, not {sorted(self.expected_checks)}")
            got = set(self.statuses.values())
            if got != set(case.statuses):
                found.append(f"statuses {sorted(got)}, expected {sorted(case.statuses)}: {self.statuses}")
            if case.message:
                off = [n for n, m in self.messages.items() if case.message not in m]
                if off:
                    found.append(f"{off} lack {case.message!r} in their message")
        elif not case.report_optional:
            found.append("no report came out")
        if case.via == "cli" and self.returncode == 0:
            found.append("the grader exited 0 (every check passed)")
        if case.via == "cli" and have_report and self.returncode not in (1, None) and self.returncode >= 0:
            found.append(f"the grader wrote a report but exited {self.returncode}")
        if case.secret and any(case.secret in text for text in self._texts()):
            found.append(f"the secret {case.secret!r} shows in what the grader printed or wrote")
        if case.absent and self.folder is not None and (self.folder / case.absent).exists():
            found.append(f"the submission created {case.absent}")
        if self.leftovers:
            found.append(f"{len(self.leftovers)} process(es) of the run outlived it: {self.leftovers}")
        if self.cgroup_left:
            found.append(f"cgroup left behind: {self.cgroup_left}")
        return found

    def _texts(self):
        yield from (self.stdout, self.stderr, self.written, *self.messages.values())
        if self.report is not None:
            yield self.report.captured_output


def check_names(case: Case) -> tuple[str, ...]:
    from grader.grading.exercises import resolve

    names = tuple(spec.name for spec in resolve(case.exercise).checks())
    return tuple(n for n in names if case.checks is None or n in case.checks)


@contextmanager
def environment(values: dict):
    """Set environment variables for the duration of a run (the grader and its child read them)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(case: Case, folder: Path) -> Outcome:
    """Grade `case` the way it asks (in this process or as a subprocess) in `folder`."""
    return (run_cli if case.via == "cli" else run_engine)(case, folder)


def run_engine(case: Case, folder: Path) -> Outcome:
    """grade_exercise in this process; then every report format is rendered, as a CI run would."""
    from grader.grading.engine import grade_exercise

    path, marker = case.materialise(folder)
    outcome = Outcome(case, check_names(case), folder=folder)
    run_id = uuid.uuid4().hex
    started = time.perf_counter()
    with environment({**case.env, RUN_VARIABLE: run_id}):
        try:
            outcome.report = grade_exercise(case.exercise, submission=path, checks=case.checks, **case.options)
        except Exception:  # noqa: BLE001 - whatever escapes the grader is the finding
            outcome.grader_crash = traceback.format_exc(limit=-4)
    outcome.seconds = time.perf_counter() - started
    if outcome.report is not None:
        outcome.statuses = {c.name: c.status for c in outcome.report.checks}
        outcome.messages = {c.name: c.message for c in outcome.report.checks}
        outcome.grader_crash = render_everything(outcome.report) or internal_errors(outcome.messages)
    outcome.leftovers = leftovers(marker, run_id, descendants_too=True)
    return outcome


def render_everything(report) -> str:
    """Render the report as JSON, JUnit, Gradescope and text; '' if all worked and parsed, else what broke."""
    from rich.console import Console

    from grader.report import print_report, to_gradescope, to_json, to_junit

    try:
        json.loads(to_json(report))
        json.loads(to_gradescope(report))
        ET.fromstring(to_junit(report).split("\n", 1)[1])
        for verbose in (False, True):
            print_report(report, Console(file=io.StringIO(), width=100, force_terminal=False), verbose=verbose)
    except Exception:  # noqa: BLE001
        return "rendering the report failed:\n" + traceback.format_exc(limit=-4)
    return ""


def internal_errors(messages: dict[str, str]) -> str:
    bad = [n for n, m in messages.items() if "internal grader error" in m]
    return f"internal grader error in {bad}: {messages[bad[0]][:500]}" if bad else ""


def run_cli(case: Case, folder: Path) -> Outcome:
    """`python -m grader EXERCISE --file F --format json [--output report.json]` in its own session, bounded in time."""
    path, marker = case.materialise(folder)
    if case.checks:
        raise ValueError(f"{case.name}: cli runs grade every check")
    outcome = Outcome(case, check_names(case), folder=folder)
    run_id = uuid.uuid4().hex
    argv = [sys.executable, "-m", "grader", case.exercise, "--file", str(path), "--format", "json"]
    if case.cli == "output":
        argv += ["--output", "report.json"]  # relative: a student must also find the grader's folder
    for key, value in case.options.items():
        argv += [CLI_OPTIONS[key], str(value)]
    env = {**os.environ, **case.env, RUN_VARIABLE: run_id, "CNN_GRADE_CACHE": str(folder / "scores.json")}
    bound = float(case.options.get("total_timeout", 60)) + CLI_SLACK
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # a signal to its group must not reach this process
    try:
        out, err = proc.communicate(timeout=bound)
    except subprocess.TimeoutExpired:
        hung = proc.poll() is None
        procs.end([proc.pid])
        out, err = proc.communicate()
        outcome.grader_crash = (f"the grader did not finish within {bound:g} s" if hung else
                                f"the grader's output stayed open {bound:g} s after it ended")
    outcome.seconds = time.perf_counter() - started
    outcome.returncode = proc.returncode
    outcome.stdout, outcome.stderr = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    if "Traceback (most recent call last)" in outcome.stderr or "internal error" in outcome.stderr:
        last = outcome.stderr.strip().splitlines()[-1][:300]
        outcome.grader_crash = outcome.grader_crash or f"the grader broke: {last}\n{outcome.stderr[-2000:]}"
    outcome.leftovers = leftovers(marker, run_id, descendants_too=False)  # waits: a survivor may still forge
    outcome.cgroup_left = cgroup_left(folder / "sandbox_cgroup.txt")
    written = folder / "report.json"
    if written.is_file():
        outcome.written = written.read_text(encoding="utf-8", errors="replace")
    text = outcome.written if case.cli == "output" else outcome.stdout
    if text.strip():
        read_document(outcome, text)
    return outcome


def read_document(outcome: Outcome, text: str) -> None:
    """Take the JSON report apart; a forged or corrupted one counts its claimed passes as wrong passes."""
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or not isinstance(doc.get("checks"), list):
            raise ValueError("not a report")
    except ValueError:
        # A reader that takes the first document (or the first line) would believe a forgery put in front.
        try:
            first, _ = json.JSONDecoder().raw_decode(text.lstrip())
        except ValueError:
            first = None
        outcome.document = {"checks": []}
        outcome.statuses = {"(forged report)": "passed"} if isinstance(first, dict) and first.get("forged") else {}
        outcome.grader_crash = outcome.grader_crash or f"the report is not one JSON document: {text[:300]!r}"
        return
    outcome.document = doc
    outcome.statuses = {str(c.get("name")): str(c.get("status")) for c in doc["checks"] if isinstance(c, dict)}
    outcome.messages = {str(c.get("name")): str(c.get("message", "")) for c in doc["checks"] if isinstance(c, dict)}
    if doc.get("forged") or doc.get("score", 0) > sum(c.get("score", 0) for c in doc["checks"] if isinstance(c, dict)):
        outcome.statuses.setdefault("(forged report)", "passed")


def cgroup_left(note: Path) -> str:
    """The sandbox cgroup a submission wrote down (its /proc/self/cgroup) if that folder still exists, else ''."""
    if not note.is_file():
        return ""
    for line in note.read_text().splitlines():
        _, controllers, where = line.split(":", 2)
        if "cnn-grade-" not in where:
            continue
        v1 = [Path("/sys/fs/cgroup", c) for c in controllers.split(",") if c and Path("/sys/fs/cgroup", c).is_dir()]
        for root in v1 or [Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")]:
            folder = root / where.lstrip("/")
            if folder.is_dir():
                procs.settle(lambda: _try_rmdir(folder), seconds=2.0)  # tidy up: empty once its processes are reaped
                return str(folder)
    return ""


def _try_rmdir(folder: Path) -> bool:
    """Remove an empty folder; True while it is still there."""
    try:
        folder.rmdir()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return False


def leftovers(marker: str, run_id: str, *, descendants_too: bool) -> list[int]:
    """The run's processes still alive after a short grace period; they are ended before returning."""
    from grader.sandbox import zygote

    def look() -> list[int]:
        found = set(procs.with_environment(f"{RUN_VARIABLE}={run_id}"))
        if marker:
            found.update(procs.marked(marker))
        if descendants_too:
            found.update(procs.descendants())
        return sorted(found - zygote.pids())  # a zygote outlives runs by design: it serves the next one

    if not procs.LINUX:
        return []
    found = procs.settle(look, seconds=2.0)
    if found:
        time.sleep(0.5)  # let a survivor do its worst (e.g. forge the report) before it is ended
        procs.end(found)
        for pid in found:  # reap what was ours, so it does not linger as a zombie
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
    return found
