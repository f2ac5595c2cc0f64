"""The `cnn-grade` command line: wiring only; the work happens in grader.grading.engine and grader.report."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .errors import ToolError
from .grading.exercises import all_exercises, resolve
from .grading.limits import DEFAULT as LIMITS, MIN_MEMORY_MB

SECONDS = click.FloatRange(min=0, min_open=True)
timeout_option = click.option("--timeout", type=SECONDS, default=LIMITS.timeout, show_default=True,
                              help="Seconds allowed for each call into student code.")

FORMATS = ("text", "json", "junit", "gradescope", "html")


class UsageProblem(click.ClickException):
    """A tool error: one line on stderr, exit code 2."""

    exit_code = 2


class Interrupted(click.ClickException):
    """Ctrl-C: one word on stderr and exit 130, not click's "Aborted!" with exit 1 (which means "a check failed")."""

    exit_code = 130

    def show(self, file=None) -> None:
        click.echo("Interrupted.", err=True)


class ExerciseGroup(click.Group):
    """Subcommands, plus every exercise name ("exercise1", "1", "conv2d") as a grading command."""

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        try:
            exercise = resolve(name)
        except ToolError:
            return None
        return _grade_command(exercise.name)

    def list_commands(self, ctx):
        return [ex.name for ex in all_exercises()] + super().list_commands(ctx)

    def resolve_command(self, ctx, args):
        if args and super().get_command(ctx, args[0]) is None:
            try:
                resolve(args[0])
            except ToolError as e:
                raise UsageProblem(f"{e} Other commands: {', '.join(super().list_commands(ctx))}.") from None
        return super().resolve_command(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ToolError as e:
            raise UsageProblem(str(e)) from None
        except KeyboardInterrupt:
            raise Interrupted("Interrupted.") from None


def _console(file=None):
    from rich.console import Console

    from .report.text import TrimmedLines

    stream = file or sys.stdout
    console = Console(file=stream, highlight=False, soft_wrap=False)
    if console.is_terminal:
        return console
    return Console(file=TrimmedLines(stream), highlight=False, soft_wrap=False)  # piped: no padding to 80 columns


def grading_options(fn):
    """Options shared by `cnn-grade EXERCISE` and `cnn-grade all`."""
    options = [
        click.option("--device", type=click.Choice(["cpu", "cuda", "mps", "auto"], case_sensitive=False), default="cpu",
                     show_default=True, help="Where probes run; references stay float64 on the CPU."),
        click.option("--seed", type=int, default=None, help="Seed of the hidden inputs (default: fixed per exercise, "
                     "or $CNN_GRADE_SEED)."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="Report format; json, junit, gradescope and html print exactly that document "
                     "(html: one self-contained page with pictures, best with --out report.html)."),
        click.option("--out", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Write the report to this file (the text report still goes to the terminal)."),
        timeout_option,
        click.option("--total-timeout", type=SECONDS, default=LIMITS.total_timeout, show_default=True,
                     help="Seconds allowed for the whole run; checks not started by then are marked timeout."),
        click.option("--memory", "memory_mb", type=click.IntRange(min=MIN_MEMORY_MB), default=LIMITS.memory_mb,
                     show_default=True, help="MiB of memory the student code may use (memory used, not reserved)."),
        click.option("-v", "--verbose", is_flag=True, help="Show student tracebacks and all captured output."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _emit(reports, fmt: str, output: Path | None, verbose: bool, missing=None) -> None:
    """Show the reports; `missing` (a list, for `cnn-grade all`) makes one course document of them."""
    from .files import write_atomic
    from .report import COURSE_FORMATS, FORMATS as RENDER, plain_text, print_report, print_summary

    if fmt == "text" or output is not None:
        console = _console()
        for report in reports:
            print_report(report, console, verbose=verbose)
        if missing is not None:
            print_summary(reports, console, missing)
    if fmt == "text" and output is not None:
        write_atomic(output, "".join(plain_text(report, verbose=verbose) for report in reports))
    elif fmt != "text":
        text = RENDER[fmt](reports[0]) if missing is None else COURSE_FORMATS[fmt](reports, missing)
        if output is not None:
            write_atomic(output, text)
        else:
            click.echo(text, nl=False)


def _grade_command(name: str) -> click.Command:
    @click.command(name=name, help=f"Grade {name}: {resolve(name).title}.")
    @click.option("--file", "file", type=click.Path(path_type=Path), default=None,
                  help=f"Grade this file instead of exercises/{name}.py.")
    @click.option("--watch", is_flag=True, help="Grade again on every save of the file, until Ctrl-C.")
    @grading_options
    def grade(file, watch, device, seed, fmt, output, timeout, total_timeout, memory_mb, verbose):
        from .grading.engine import grade_exercise
        from .coursework.scores import record

        if watch:
            if fmt != "text" or output is not None:
                raise ToolError("--watch shows the text report on the terminal: leave out --format and --output.")
            from .coursework.watch import watch_exercise

            watch_exercise(name, submission=file, seed=seed, device=device, timeout=timeout,
                           total_timeout=total_timeout, memory_mb=memory_mb, verbose=verbose, console=_console())
            sys.exit(0)
        if fmt == "html":  # Jinja2 (matplotlib too, if it draws charts) loads while the sandbox child grades
            from .report.html import preload

            preload(name)
        report = grade_exercise(name, submission=file, seed=seed, device=device, timeout=timeout,
                                total_timeout=total_timeout, memory_mb=memory_mb)
        record(report)
        _emit([report], fmt, output, verbose)
        sys.exit(0 if report.all_passed else 1)

    return grade


@click.group(cls=ExerciseGroup, invoke_without_command=False,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cnn-grade", prog_name="cnn-grade")
def cli():
    """Grade convolutional-network exercises against PyTorch references.

    \b
    cnn-grade exercise1          grade exercises/exercise1.py (also: cnn-grade 1, cnn-grade conv2d)
    cnn-grade list               the exercises and how far along your files are
    cnn-grade show exercise1     the task statement
    cnn-grade all                grade every exercise
    """


@cli.command("list")
def list_exercises():
    """List the exercises, their points and the state of your files."""
    from rich.table import Table

    from .coursework.course import file_states

    words = {"no file": "[dim]no file[/]", "both edited": "[red]both .py and .ipynb edited[/]",
             "complete": "[green]complete[/]", "stub": "stub", "edited": "edited"}
    table = Table(title="cnn-grade exercises")
    for column in ("exercise", "alias", "title", "points", "your file"):
        table.add_column(column)
    for item in file_states():
        ex = item.exercise
        state = words.get(item.state) or f"[yellow]{item.last[0]:g}/{item.last[1]:g}[/]"
        if item.path is not None:
            state += f" ({item.path.name})"
        table.add_row(ex.name, ex.slug, ex.title, f"{item.points:g}", state)
    _console().print(table)


@cli.command("show")
@click.argument("exercise")
def show(exercise):
    """Show an exercise's task statement."""
    from rich.markdown import Markdown

    _console().print(Markdown(resolve(exercise).statement()))


@cli.command("all")
@grading_options
def grade_all(device, seed, fmt, output, timeout, total_timeout, memory_mb, verbose):
    """Grade every exercise whose file exists, then print a summary (json, junit, gradescope: one document)."""
    from .coursework.course import grade_course, missing_exercises

    if fmt == "html":
        raise ToolError("--format html draws one exercise per page: run cnn-grade exerciseN --format html --out "
                        "exerciseN.html for each.")
    missing = missing_exercises()
    reports = grade_course(seed=seed, device=device, timeout=timeout, total_timeout=total_timeout, memory_mb=memory_mb)
    _emit(reports, fmt, output, verbose, missing=missing)
    sys.exit(0 if all(r.all_passed for r in reports) and not missing else 1)

# -- instructors ------------------------------------------------------------------------------
# Each command below calls one keyword-only function; the work lives in its own module.


@cli.command("build")
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=Path("solutions"),
              show_default=True, help="Folder of solution keys with # BEGIN/END SOLUTION markers.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write a student release to this folder (without solutions/) instead of ./exercises.")
@click.option("--force", is_flag=True, help="Overwrite files students changed (a backup is kept).")
@click.option("--placeholder", default=None, help="Code put where the solution was (default: raise NotImplementedError).")
def build_command(source, out, force, placeholder):
    """Generate the student stubs and notebooks from the solution keys."""
    from .instructor.build import build_release, print_build

    print_build(build_release(source=source, out=out, force=force, placeholder=placeholder), _console())


@cli.command("verify")
@click.argument("exercises", nargs=-1)
@click.option("--source", type=click.Path(file_okay=False, path_type=Path), default=Path("solutions"),
              show_default=True, help="Folder of solution keys.")
@click.option("--seeds", default="3", show_default=True,
              help="Seeds to grade each key with: a count (the exercise's seed and the next ones) or a list 1,2,3.")
@click.option("--mutants", type=click.IntRange(min=0), default=20, show_default=True,
              help="Mutants graded per exercise (0 skips the mutation report).")
@click.option("--misconceptions/--no-misconceptions", default=True, show_default=True,
              help="Grade each exercise's misconception mutants (its students' known mistakes, made in the key).")
@click.option("--check", "checks", multiple=True,
              help="Keep only this check (repeatable; one exercise): how much does it catch alone?")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Parallel grading runs (default: the core count, at most 8).")
@timeout_option
def verify_command(exercises, source, seeds, mutants, misconceptions, checks, workers, timeout):
    """Prove the keys score full marks, the stubs zero, and measure what the checks catch."""
    from .instructor.verify import verify
    from .instructor.verify_text import print_verify, progress_bar

    kept = None
    if checks:
        if len(exercises) != 1:
            raise ToolError("--check names checks of one exercise: give exactly one exercise, e.g. "
                            "cnn-grade verify exercise1 --check values_plain.")
        kept = {resolve(exercises[0]).name: checks}
    with progress_bar(_console(sys.stderr)) as step:
        result = verify(exercises=exercises or None, source=source, seeds=seeds, mutants=mutants, checks=kept,
                        workers=workers, timeout=timeout, progress=step, misconceptions=misconceptions)
    print_verify(result, _console())
    sys.exit(0 if result.ok else 1)


@cli.command("batch")
@click.argument("submissions", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where grades.csv, grades.json and feedback/ go (default: SUBMISSIONS/../gradebook).")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel graders (default: the core count).")
@click.option("--exercise", "exercises", multiple=True, help="Grade only these exercises (repeatable).")
@click.option("--force", is_flag=True, help="Grade again what is already in the gradebook.")
@click.option("--seed", type=int, default=None, help="Seed of the hidden inputs (default: per exercise, or $CNN_GRADE_SEED).")
@click.option("--shard", default=None, metavar="I/N",
              help="Grade only shard I of N (1-based; a stable hash of each student's folder name); "
              "merge the shards' gradebooks with cnn-grade merge.")
@click.option("--list", "list_only", is_flag=True, help="With --shard: print the shard's students and grade nothing.")
@timeout_option
def batch_command(submissions, out, workers, exercises, force, seed, shard, list_only, timeout):
    """Grade a folder of students (one sub-folder each) into a gradebook.

    Exit code 0 when every cell is graded (whatever the scores), 1 when some could not be
    graded this time or an interrupted run left cells pending (run again to finish), 2 for a tool error.
    """
    from .classroom.batch import BatchInterrupted, grade_batch, print_batch, shard_students
    from .classroom.shards import parse_shard

    part = parse_shard(shard) if shard is not None else None
    if list_only:
        if part is None:
            raise ToolError("--list prints the students of one shard: give --shard I/N too.")
        for student in shard_students(submissions, part):
            click.echo(student)
        sys.exit(0)
    console = _console()
    try:  # Ctrl-C or SIGTERM: every finished cell is saved, the rest is marked pending
        result = grade_batch(submissions, out=out, workers=workers, exercises=exercises or None, force=force,
                             seed=seed, timeout=timeout, console=console, shard=part)
    except BatchInterrupted as e:
        click.echo(e.advice, err=True)  # names the command that resumes (without --force after a forced run)
        sys.exit(130)
    print_batch(result, console)
    sys.exit(0 if result.complete else 1)


@cli.command("merge")
@click.argument("gradebooks", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where the merged gradebook goes (grades.csv, grades.json, feedback/).")
def merge_command(gradebooks, out):
    """Merge the gradebooks of a batch's shards (batch --shard I/N) into one.

    Exit code 0 when every student of the class is graded, 1 when some shard is absent or left
    students ungraded or pending (the message names them), 2 for shards that do not belong together.
    """
    from .classroom.merge import merge_gradebooks, print_merge

    result = merge_gradebooks(gradebooks, out=out)
    print_merge(result, _console())
    sys.exit(0 if result.complete else 1)


@cli.command("class-report")
@click.argument("gradebook", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The HTML file to write (default: GRADEBOOK/class.html).")
def class_report_command(gradebook, out):
    """Write a class report from a gradebook: scores, misconceptions, identical wrong answers."""
    from .classroom.class_report import class_report

    written = class_report(gradebook, out=out)
    click.echo(f"Wrote {written}")


@cli.command("gradescope-bundle")
@click.argument("exercise")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("autograder.zip"),
              show_default=True, help="The zip to write.")
@click.option("--visibility", type=click.Choice(["visible", "hidden", "after_due_date", "after_published"]),
              default="visible", show_default=True, help="Gradescope visibility of the checks' results.")
@click.option("--hidden", multiple=True, metavar="CHECK",
              help="Hold this check's result back from students (repeatable; names as in --format json).")
@click.option("--hidden-visibility", type=click.Choice(["hidden", "after_due_date", "after_published"]),
              default="hidden", show_default=True, help="When the --hidden checks' results are shown.")
@click.option("--seed", type=int, default=None,
              help="Seed of the hidden inputs on Gradescope (default: the exercise's, as students see locally).")
@click.option("--torch-spec", default="torch", show_default=True, help="What setup.sh asks pip for as torch.")
@click.option("--pip-index-args", default=None, metavar="ARGS",
              help="pip options for installing torch [default: --index-url of PyTorch's CPU-only wheel index]; "
              "'' installs the default build (with CUDA on Linux). setup.sh's $PIP_INDEX_ARGS overrides it.")
def gradescope_bundle_command(exercise, out, visibility, hidden, hidden_visibility, seed, torch_spec, pip_index_args):
    """Write a Gradescope autograder.zip that grades EXERCISE."""
    from .classroom.bundle import gradescope_bundle, print_bundle

    print_bundle(gradescope_bundle(exercise, out=out, visibility=visibility, hidden=hidden,
                                   hidden_visibility=hidden_visibility, seed=seed, torch_spec=torch_spec,
                                   pip_index_args=pip_index_args), _console())


def main() -> None:
    """Entry point: tool errors exit 2 with one message; a grader bug is reported, not dumped."""
    from .exiting import exit_fast

    try:
        cli(prog_name="cnn-grade")
    except SystemExit as e:  # how every command ends (click's standalone mode)
        exit_fast(e.code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("Interrupted.", err=True)
        exit_fast(130)
    except Exception as e:  # a bug in the grader itself
        if os.environ.get("CNN_GRADE_DEBUG"):
            raise
        click.echo(f"cnn-grade: internal error: {type(e).__name__}: {e} (set CNN_GRADE_DEBUG=1 for the traceback; "
                   f"please report it)", err=True)
        exit_fast(3)
    exit_fast(0)
