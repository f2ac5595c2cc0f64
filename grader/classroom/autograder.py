"""The grading run inside Gradescope: find the student's upload, grade it, always leave a results.json.

run_autograder (written by `cnn-grade gradescope-bundle`) calls `python -m grader.classroom.autograder ROOT`.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from .bundle import CONFIG, SKIPPED
from ..errors import GraderSetupError, ToolError
from ..grading.exercises import Exercise, resolve


def find_submission(exercise: Exercise, folder: Path) -> Path:
    """The file to grade in an uploaded folder: exerciseN.py/.ipynb, else the one code file, one level deep at most."""
    from ..grading.submission import SUFFIXES

    if not folder.is_dir():
        raise ToolError(f"No submission folder at {folder}.")
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not _debris(p))
    found = _exact(exercise, folder)
    if found is not None:
        return found
    nested = [f for f in (_exact(exercise, sub) for sub in subfolders) if f is not None]
    code = [p for f in (folder, *subfolders) for p in sorted(f.iterdir())
            if p.is_file() and p.suffix in SUFFIXES and not _debris(p)]
    named = [p for p in code if p.stem.lower().replace(" ", "").startswith(exercise.name)]  # "Exercise1 (2).py"
    for group in (nested, named, code):
        if len(group) == 1:
            return group[0]
        if len(group) > 1:
            names = ", ".join(str(p.relative_to(folder)) for p in group)
            raise ToolError(f"Your submission holds several files that could be {exercise.name} ({names}). "
                            f"Submit just one, named {exercise.name}.py or {exercise.name}.ipynb.")
    received = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    listing = ", ".join(received[:10]) + (" …" if len(received) > 10 else "") if received else "no files"
    raise ToolError(f"No {exercise.name}.py or {exercise.name}.ipynb in your submission (received: {listing}). "
                    f"Upload your {exercise.name}.py or {exercise.name}.ipynb and submit again.")


def _debris(path: Path) -> bool:
    return path.name in SKIPPED or path.name.startswith(".")  # macOS resource forks, Jupyter checkpoints


def _exact(exercise: Exercise, folder: Path) -> Path | None:
    from ..grading.submission import find_in

    try:
        return find_in(exercise, folder)
    except ToolError:  # its message speaks of --file, which a student on Gradescope cannot pass
        raise ToolError(f"Your submission holds both {exercise.name}.py and {exercise.name}.ipynb, and both were "
                        f"changed. Submit just the one to grade.") from None


def autograde(root: Path) -> int:
    """Grade root/submission with root/source/cnn-grade.json; write root/results/results.json, whatever happens."""
    from ..grading.engine import grade_exercise
    from ..files import write_atomic
    from ..report import plain_text, to_gradescope
    from ..report.gradescope import gradescope_message

    try:
        config = _read_config(root / "source" / CONFIG)
        ex = resolve(config["exercise"])
        path = find_submission(ex, root / "submission")
        print(f"Grading {path} as {ex.name}", flush=True)
        report = grade_exercise(ex.name, submission=path, seed=config["seed"])
        text = to_gradescope(report, config["visibility"], config["per_check"])
        print(plain_text(report), flush=True)  # the instructors' log
    except GraderSetupError as e:  # the autograder's image, not the student: say so to both
        print(f"Not graded, the autograder is misconfigured: {e}", flush=True)
        text = gradescope_message(f"The autograder is misconfigured ({e.cause}), so nothing was graded. This is "
                                  f"not a verdict on your code: please tell your instructor.")
    except ToolError as e:
        print(f"Not graded: {e}", flush=True)
        text = gradescope_message(str(e))
    except Exception as e:  # a grader bug: the student still gets an answer, the instructor the traceback
        traceback.print_exc()
        text = gradescope_message(f"The autograder failed ({type(e).__name__}: {e}), so nothing was graded. "
                                  f"This is not a verdict on your code: please tell your instructor.")
    write_atomic(root / "results" / "results.json", text)
    return 0


def _read_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        return {"exercise": str(config["exercise"]), "seed": config.get("seed"),
                "visibility": config.get("visibility", "visible"), "per_check": dict(config.get("per_check", {}))}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ToolError(f"The autograder's settings ({path}) are missing or broken ({e}); "
                        f"please tell your instructor.") from None


def main(argv: list[str] | None = None) -> int:
    """`python -m grader.classroom.autograder [ROOT]`: the grading run of run_autograder (ROOT defaults to /autograder)."""
    args = sys.argv[1:] if argv is None else argv
    return autograde(Path(args[0] if args else os.environ.get("AUTOGRADER_ROOT", "/autograder")))


if __name__ == "__main__":
    sys.exit(main())
