"""Gradescope's autograder results.json: one test per check, with the feedback the terminal shows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from grader.grading.results import STATUS_KINDS, CheckResult, MissingExercise, Report
from grader.report.formats import _clean
from grader.report.text import OUTPUT_TAIL_LINES, _plain, check_text

# When Gradescope shows a test's result to students (its own four words).
GRADESCOPE_VISIBILITIES: tuple[str, ...] = ("visible", "hidden", "after_due_date", "after_published")
# How Gradescope renders each string (it knows text, html, simple_format, md, ansi), said every time.
# Markdown, so that tables and heat maps sit in fenced code blocks (monospace, HTML escaped); the
# prose around them is the grader's own constant text, never the student's.
OUTPUT_FORMAT = "md"
NAME_FORMAT = "text"  # test names echo check titles: never markup

# Advice only a terminal user can follow: Gradescope has no -v, so it is dropped there. A
# parenthesis naming the flag, or a clause such as "; -v shows the full traceback".
_FLAG = r"(?<![\w-])(?:-v|--verbose)(?![\w-])"
_CLI_PAREN = re.compile(rf"[ \t]*\([^()\n]*{_FLAG}[^()\n]*\)")
_CLI_CLAUSE = re.compile(rf"(?:[;,][ \t]*|^[ \t]*)(?:(?:re)?run(?: it)? with |use |add )?{_FLAG}"
                         rf"(?:[ \t]+(?:shows|to see|for|prints)\b)?[^.;\n]*", re.IGNORECASE | re.MULTILINE)


def to_gradescope(report: Report, visibility: str = "visible", per_check: Mapping[str, str] | None = None) -> str:
    """The report as a Gradescope autograder results.json; `per_check` maps check names to their own visibility."""
    per_check = dict(per_check or {})
    for value in (visibility, *per_check.values()):
        if value not in GRADESCOPE_VISIBILITIES:
            known = ", ".join(GRADESCOPE_VISIBILITIES)
            raise ValueError(f"Unknown Gradescope visibility {value!r}: use one of {known}.")
    tests = [_test(c, report.exercise, c.title, str(i), per_check.get(c.name, visibility))
             for i, c in enumerate(report.checks, start=1)]
    extra = {"exercise": report.exercise, "submission": _clean(report.submission), "seed": report.seed,
             "device": report.device, "max_score": report.max_score}
    # Gradescope hides the total while any test is held back; the summary must not give it away.
    held_back = any(t["visibility"] != "visible" for t in tests)
    return _document(report.score, report.duration, _report_output(report, held_back), tests, extra)


def course_gradescope(reports: Iterable[Report], missing: Iterable[MissingExercise] = ()) -> str:
    """Every exercise in one results.json (`cnn-grade all`); a missing file is one failed test worth its points."""
    entries: list[Report | MissingExercise] = sorted([*reports, *missing], key=lambda e: _natural(e.exercise))
    tests, blocks, lines = [], [], []
    for n, entry in enumerate(entries, start=1):
        if isinstance(entry, MissingExercise):
            tests.append(_missing_test(entry, str(n)))
            lines.append(f"{entry.exercise}: {entry.title}  0 / {entry.max_score:g}  (no file at {entry.path})")
            continue
        tests += [_test(c, entry.exercise, f"{entry.exercise}: {c.title}", f"{n}.{i}", "visible")
                  for i, c in enumerate(entry.checks, start=1)]
        lines.append(f"{entry.exercise}: {entry.title}  {entry.score:g} / {entry.max_score:g}")
        blocks += [_heading(f"{entry.exercise}: {label}", block) for label, block in _extras(entry)]
    score = sum(t["score"] for t in tests)
    max_score = sum(t["max_score"] for t in tests)
    lines.append(f"Total: {score:g} / {max_score:g}")
    output = "\n\n".join([_fenced("\n".join(lines)), *blocks])
    duration = sum(e.duration for e in entries if isinstance(e, Report))
    extra = {"exercises": [e.exercise for e in entries],
             "missing": [e.exercise for e in entries if isinstance(e, MissingExercise)], "max_score": max_score}
    return _document(score, duration, output, tests, extra)


def gradescope_message(message: str) -> str:
    """A results.json that grades nothing: a zero, and one message telling the student why."""
    return json.dumps({"score": 0.0, "output": _clean(message), "output_format": "text",
                       "stdout_visibility": "hidden"}, indent=2) + "\n"


def _document(score: float, duration: float, output: str, tests: list[dict], extra: dict) -> str:
    # No top-level visibility: that stays whatever the instructor set on the assignment. The
    # autograder's stdout is the instructors' log (held-back checks included): never the students'.
    data = {
        "score": float(score),
        "execution_time": int(round(duration)),
        "output": _clean(output),
        "output_format": OUTPUT_FORMAT,
        "test_output_format": OUTPUT_FORMAT,
        "test_name_format": NAME_FORMAT,
        "stdout_visibility": "hidden",
        "extra_data": extra,
        "tests": tests,
    }
    return json.dumps(data, indent=2) + "\n"


def _test(check: CheckResult, exercise: str, name: str, number: str, visibility: str) -> dict:
    return {
        "name": _clean(_plain(name)),
        "name_format": NAME_FORMAT,
        "number": number,  # Gradescope documents test numbers as strings ("1.1")
        "score": float(check.score),
        "max_score": float(check.max_score),
        "status": "passed" if check.passed else "failed",
        "output": _clean(_test_output(check)),
        "output_format": OUTPUT_FORMAT,
        "tags": [check.name],  # what `gradescope-bundle --hidden NAME` names
        "visibility": visibility,
        "extra_data": {"exercise": exercise, "check": check.name, "status": check.status},
    }


def _missing_test(missing: MissingExercise, number: str) -> dict:
    message = (f"No file was found at {missing.path}, so {missing.exercise} was not graded: "
               f"0 of its {missing.max_score:g} points.")
    return {
        "name": _clean(_plain(f"{missing.exercise}: {missing.title}")),
        "name_format": NAME_FORMAT,
        "number": number,
        "score": 0.0,
        "max_score": float(missing.max_score),
        "status": "failed",
        "output": _clean(_fenced(message)),
        "output_format": OUTPUT_FORMAT,
        "tags": [missing.exercise],
        "visibility": "visible",
        "extra_data": {"exercise": missing.exercise, "missing": _clean(missing.path)},
    }


def _test_output(check: CheckResult) -> str:
    if check.passed and not (check.message or check.figures):
        return ""  # the terminal has nothing to add either: the test's name and points say it
    # Gradescope only knows passed/failed, so say first when the code crashed or ran out of time.
    lead = STATUS_KINDS[check.status].gradescope_lead
    # The student cannot ask for -v here, so the traceback it would show comes with the block.
    block = check_text(_without_cli_advice(check), verbose=True, cli_advice=False)
    return "\n\n".join(part for part in (lead, _fenced(block)) if part)


def _without_cli_advice(check: CheckResult) -> CheckResult:
    return replace(check, hint=_drop_cli_advice(check.hint))


def _drop_cli_advice(text: str) -> str:
    left = _CLI_CLAUSE.sub("", _CLI_PAREN.sub("", text)).strip()
    return left if re.search(r"\w", left) else ""  # "Run with -v." leaves a lone full stop


def _report_output(report: Report, held_back: bool) -> str:
    summary = [
        f"{report.exercise}: {report.title}",
        f"File graded: {report.submission}",
        f"Seed: {report.seed}  Device: {report.device}",
        "Score: shown when every result is released" if held_back else
        f"Score: {report.score:g} / {report.max_score:g}",
    ]
    if report.limits:
        summary.append("Limits: " + "; ".join(report.limits) + ".")
    return "\n\n".join([_fenced("\n".join(summary)), *(_heading(label, block) for label, block in _extras(report))])


def _extras(report: Report) -> list[tuple[str, str]]:
    """The run's notes and the tail of what the student's code printed, as (heading, text) pairs."""
    extras = []
    notes = [_drop_cli_advice(note) for note in report.notes]
    if notes := [note for note in notes if note]:
        extras.append(("Notes", "\n".join(f"- {note}" for note in notes)))
    if report.captured_output:
        lines = _plain(report.captured_output).rstrip("\n").split("\n")
        hidden = max(0, len(lines) - OUTPUT_TAIL_LINES)
        label = "Output of your code" + (f" (its last {OUTPUT_TAIL_LINES} lines of {len(lines)})" if hidden else "")
        text = "\n".join(lines[hidden:])
        if report.output_truncated:
            text += "\n(truncated: your code printed more than was kept)"
        extras.append((label, text))
    return extras


def _heading(label: str, text: str) -> str:
    # Labels are the grader's words or exercise names; the text goes in a code block, as printed.
    return f"**{label}**\n\n{_fenced(text)}"


def _fenced(text: str) -> str:
    # A fence longer than any run of backticks inside, so printed backticks cannot close it early.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip(chr(10))}\n{fence}"


def _natural(name: str) -> list:
    # exercise2 before exercise10
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
