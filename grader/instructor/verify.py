"""`cnn-grade verify`: the keys score full marks, the stubs score zero, and how many mutants the checks catch."""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from . import misconceptions as mistakes
from . import mutants as mutation
from ..grading.engine import grade_exercise, resolve_seed, select_checks
from ..errors import GraderSetupError, ToolError
from ..grading.exercises import Exercise, all_exercises, resolve
from ..grading.limits import DEFAULT as LIMITS, Limits
from .markers import make_stub
from ..grading.results import Report
from ..sandbox import zygote

MAX_DEFAULT_WORKERS = 8  # each grading run is a child process holding torch: bound the memory it takes
Progress = Callable[[str, int, int], None]  # (what just finished, done, total)


@dataclass(frozen=True)
class Run:
    """One graded file, reduced to what verify judges: the score and every check that did not pass."""

    label: str  # "exercise1.py", "stub", "mutant"
    seed: int
    score: float
    max_score: float
    checks: int  # how many checks ran
    missed: tuple[tuple[str, str, str], ...] = ()  # (check, status, first line of its message)

    @property
    def full_marks(self) -> bool:
        return not self.missed and self.score == self.max_score

    @property
    def clean_zero(self) -> bool:
        """Zero points with every check failed: what an untouched stub must give, no grader error."""
        return self.score == 0 and len(self.missed) == self.checks and all(s == "failed" for _, s, _ in self.missed)


@dataclass(frozen=True)
class MutantRun:
    """A mutant and the checks that caught it (none: it survived)."""

    mutant: mutation.Mutant
    caught_by: tuple[str, ...]

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


@dataclass(frozen=True)
class ExerciseVerification:
    """Everything verify found for one exercise."""

    exercise: str
    title: str
    keys: tuple[Run, ...]  # every key at every seed
    stub: Run
    mutants: tuple[MutantRun, ...]
    candidates: int  # mutants the key has in all; `mutants` is a sample of them
    checks: tuple[str, ...] | None = None  # the checks kept, when not all of them
    notes: tuple[str, ...] = ()
    misconceptions: tuple[mistakes.MisconceptionRun, ...] = ()  # every one in the table, applicable or not

    @property
    def keys_ok(self) -> bool:
        return all(run.full_marks for run in self.keys)

    @property
    def stub_ok(self) -> bool:
        return self.stub.clean_zero

    @property
    def ok(self) -> bool:
        return self.keys_ok and self.stub_ok

    @property
    def caught(self) -> int:
        return sum(run.caught for run in self.mutants)

    @property
    def share(self) -> float | None:
        """The share of graded mutants caught, or None when none were graded."""
        return self.caught / len(self.mutants) if self.mutants else None

    @property
    def survivors(self) -> tuple[mutation.Mutant, ...]:
        return tuple(run.mutant for run in self.mutants if not run.caught)

    @property
    def catches(self) -> tuple[tuple[str, int], ...]:
        """(check, mutants it caught), most first; checks that caught none are left out."""
        counts = Counter(name for run in self.mutants for name in run.caught_by)
        return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    @property
    def graded_misconceptions(self) -> tuple[mistakes.MisconceptionRun, ...]:
        return tuple(run for run in self.misconceptions if run.applicable)

    @property
    def misconception_caught_share(self) -> float | None:
        """The share of applicable misconception mutants caught, or None when none were graded."""
        graded = self.graded_misconceptions
        return sum(run.caught for run in graded) / len(graded) if graded else None

    @property
    def misconception_named_share(self) -> float | None:
        """The share of applicable misconception mutants caught *and* named in the feedback."""
        graded = self.graded_misconceptions
        return sum(run.caught and run.named for run in graded) / len(graded) if graded else None

    @property
    def missed_misconceptions(self) -> tuple[mistakes.MisconceptionRun, ...]:
        return tuple(run for run in self.misconceptions if run.missed)


@dataclass(frozen=True)
class VerifyResult:
    """The verdict over every verified exercise."""

    exercises: tuple[ExerciseVerification, ...]
    seeds: str  # as asked: a count or a list
    duration: float = 0.0
    workers: int = 1

    @property
    def ok(self) -> bool:
        """False when a key loses points, or a stub scores or errs."""
        return all(ex.ok for ex in self.exercises)


def parse_seeds(text: str, base: int) -> tuple[int, ...]:
    """"3" → the base seed and the next two; "1,2,3" → exactly those seeds."""
    text = str(text).strip()
    try:
        if "," in text:
            seeds = tuple(dict.fromkeys(int(part) for part in text.split(",") if part.strip()))
        else:
            count = int(text)
            if count < 1:
                raise ValueError
            seeds = tuple(base + k for k in range(count))
    except ValueError:
        seeds = ()
    if not seeds:
        raise ToolError(f"--seeds wants a count such as 3, or a comma list of seeds such as 1,2,3; got {text!r}.")
    return seeds


@dataclass(frozen=True)
class _Plan:
    """What to grade for one exercise, before any of it runs."""

    exercise: Exercise
    keys: tuple[Path, ...]
    stub: str
    seeds: tuple[int, ...]
    mutants: tuple[mutation.Mutant, ...]
    candidates: int
    checks: tuple[str, ...] | None
    notes: tuple[str, ...] = ()
    misconceptions: tuple[mistakes.Applied, ...] = ()


def verify(*, exercises: Iterable[str] | None = None, source: Path = Path("solutions"), seeds: str = "3",
           mutants: int = 20, checks: Mapping[str, Iterable[str]] | None = None, workers: int | None = None,
           timeout: float = LIMITS.timeout, progress: Progress | None = None, misconceptions: bool = True) -> VerifyResult:
    """Grade every key over the seeds, every stub once, a sample of mutants and the misconception mutants.

    `checks` maps an exercise name to the checks to keep (a deliberately small check set);
    `progress` is told each time one grading run finishes; `misconceptions=False` skips those mutants.
    """
    started = time.perf_counter()
    source = Path(source)
    if not source.is_dir():
        raise ToolError(f"No folder {source}: give the folder of solution keys with --source.")
    if mutants < 0:
        raise ToolError("--mutants must be 0 or more.")
    Limits(timeout=timeout)  # out of range: a ToolError before anything starts
    kept = {resolve(name).name: names for name, names in (checks or {}).items()}
    plans = [_plan(ex, source, seeds, mutants, kept, misconceptions) for ex in _selected(exercises, source)]
    workers = workers or min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS)
    zygote.enable()  # dozens of runs: fork their children from processes that imported torch once

    with tempfile.TemporaryDirectory(prefix="cnn-grade-verify-") as scratch:
        jobs = _jobs(plans, Path(scratch), timeout)
        reports: dict[tuple, Report] = {}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(grade_exercise, **kwargs): (key, label) for key, label, kwargs in jobs}
            try:
                for done, future in enumerate(as_completed(futures), start=1):
                    key, label = futures[future]
                    try:
                        reports[key] = future.result()
                    except GraderSetupError as e:
                        raise ToolError(f"Could not verify ({label}): {e}") from None
                    if progress is not None:
                        progress(label, done, len(jobs))
            except BaseException:  # a tool error or Ctrl-C: do not start the runs still queued
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    results = tuple(_assemble(i, plan, reports) for i, plan in enumerate(plans))
    return VerifyResult(results, str(seeds), time.perf_counter() - started, workers)


def _selected(names: Iterable[str] | None, source: Path) -> list[Exercise]:
    if names:
        chosen = list(dict.fromkeys(resolve(name) for name in names))
        for ex in chosen:
            if ex.key(source) is None:
                raise ToolError(f"No key {source / ex.filename} for {ex.name}.")
        return chosen
    chosen = [ex for ex in all_exercises() if ex.key(source) is not None]
    if not chosen:
        raise ToolError(f"No solution keys (exercise1.py, ...) in {source}.")
    return chosen


def _plan(ex: Exercise, source: Path, seeds: str, count: int, checks: Mapping[str, Iterable[str]],
          misconceptions: bool = True) -> _Plan:
    key = ex.key(source) or source / ex.filename
    try:
        text = key.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ToolError(f"Cannot read {key}: {e}") from None
    extras = sorted(p for p in source.glob(f"{ex.name}_*.py") if p.is_file())
    kept = checks.get(ex.name)
    if kept is not None:
        kept = tuple(spec.name for spec in select_checks(ex.checks(), kept))
    stub = make_stub(text, str(key))  # bad markers are a MarkerError, which is a ToolError
    candidates = mutation.generate(text, str(key))
    notes = () if stub != text else (f"{key} has no # BEGIN SOLUTION / # END SOLUTION markers.",)
    applied = tuple(mistakes.apply(text, m, str(key)) for m in mistakes.for_exercise(ex.name) or ex.misconceptions) if misconceptions else ()
    return _Plan(ex, (key, *extras), stub, parse_seeds(seeds, resolve_seed(ex.default_seed, None)),
                 tuple(mutation.sample(candidates, count, ex.number)), len(candidates), kept, notes, applied)


def _jobs(plans: list[_Plan], scratch: Path, timeout: float) -> list[tuple[tuple, str, dict]]:
    """(result key, progress label, grade_exercise arguments) for every run; the stub and mutants go to files."""
    jobs = []
    for i, plan in enumerate(plans):
        name = plan.exercise.name
        common = {"exercise": name, "checks": plan.checks, "timeout": timeout}
        for key in plan.keys:
            for seed in plan.seeds:
                jobs.append(((i, "key", key.name, seed), f"{name}: {key.name}, seed {seed}",
                             dict(common, submission=key, seed=seed)))
        files = [("stub", "stub", plan.stub)] + [(f"mutant{k}", f"mutant{k}", m.source)
                                                 for k, m in enumerate(plan.mutants)]
        files += [(f"misconception{k}", a.misconception.id, a.source)
                  for k, a in enumerate(plan.misconceptions) if a.applicable]
        for label, shown, text in files:
            folder = scratch / name / label
            folder.mkdir(parents=True)
            path = folder / plan.exercise.filename
            path.write_text(text, encoding="utf-8")
            jobs.append(((i, label), f"{name}: {shown}", dict(common, submission=path, seed=plan.seeds[0])))
    return jobs


def _run(label: str, report: Report) -> Run:
    missed = tuple((c.name, c.status, (c.message.splitlines() or [""])[0]) for c in report.checks if not c.passed)
    return Run(label, report.seed, report.score, report.max_score, len(report.checks), missed)


def _assemble(i: int, plan: _Plan, reports: dict[tuple, Report]) -> ExerciseVerification:
    keys = tuple(_run(key.name, reports[(i, "key", key.name, seed)]) for key in plan.keys for seed in plan.seeds)
    runs = tuple(MutantRun(m, tuple(name for name, _, _ in _run("mutant", reports[(i, f"mutant{k}")]).missed))
                 for k, m in enumerate(plan.mutants))
    found = tuple(mistakes.judge(a, reports[(i, f"misconception{k}")].checks if a.applicable else ())
                  for k, a in enumerate(plan.misconceptions))
    return ExerciseVerification(plan.exercise.name, plan.exercise.title, keys, _run("stub", reports[(i, "stub")]),
                                runs, plan.candidates, plan.checks, plan.notes, found)

