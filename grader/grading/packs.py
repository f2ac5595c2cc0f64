"""Exercises a course adds without editing grader/: from installed packages, or from folders it names.

Two ways, both giving `Exercise` objects (see grader/exercises.py for their fields):

- an installed package declares an entry point in the group `cnn_grade.exercises`, whose object is an
  Exercise, a sequence of them, or a function returning them:
      [project.entry-points."cnn_grade.exercises"]
      maxpool = "my_course_pack:EXERCISES"
- the course's `cnn-grade.toml` (in the course folder or a parent of the current folder, or the file
  $CNN_GRADE_CONFIG names) lists pack folders, relative to itself:
      packs = ["packs/maxpool_pack"]
  Each is a Python package folder whose `__init__.py` defines `EXERCISES`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from ..errors import ToolError

ENTRY_POINT_GROUP = "cnn_grade.exercises"
CONFIG_NAME = "cnn-grade.toml"
CONFIG_VARIABLE = "CNN_GRADE_CONFIG"


def added_exercises(built_in: tuple) -> tuple:
    """The exercises packs add, checked against the built-in ones (a clash of names is a ToolError)."""
    return _added(built_in, str(Path.cwd()), os.environ.get(CONFIG_VARIABLE, ""))


def config_file(start: Path | None = None) -> Path | None:
    """The course's cnn-grade.toml: $CNN_GRADE_CONFIG, else the first one here or in a parent folder."""
    named = os.environ.get(CONFIG_VARIABLE, "").strip()
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ToolError(f"{CONFIG_VARIABLE}={named} is not a file: point it at the course's {CONFIG_NAME}.")
        return path
    here = (start or Path.cwd()).resolve()
    return next((folder / CONFIG_NAME for folder in (here, *here.parents) if (folder / CONFIG_NAME).is_file()), None)


def pack_folders(config: Path | None) -> list[Path]:
    """The pack folders a cnn-grade.toml names, resolved against its own folder."""
    if config is None:
        return []
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ToolError(f"Cannot read {config}: {e}") from None
    packs = data.get("packs", [])
    if not isinstance(packs, list) or not all(isinstance(p, str) for p in packs):
        raise ToolError(f"{config}: `packs` must be a list of folders, e.g. packs = [\"packs/my_pack\"].")
    folders = [(config.parent / p).resolve() for p in packs]
    for folder in folders:
        if not (folder / "__init__.py").is_file():
            raise ToolError(f"{config} names the pack {folder}, which is not a Python package folder (no __init__.py).")
    return folders


@functools.lru_cache(maxsize=16)
def _added(built_in: tuple, cwd: str, named: str) -> tuple:
    found = [*_from_entry_points(), *(ex for folder in pack_folders(config_file(Path(cwd)))
                                      for ex in _from_folder(folder))]
    taken: dict[str, str] = {}
    for ex in (*built_in, *found):
        for key in {ex.name, str(ex.number), ex.slug, *ex.aliases}:
            if key in taken and taken[key] != ex.name:
                raise ToolError(f"Two exercises answer to {key!r}: {taken[key]} and {ex.name}. Rename one in its pack.")
            taken[key] = ex.name
    return tuple(sorted(found, key=lambda ex: ex.number))


def _from_entry_points() -> list:
    from importlib.metadata import entry_points

    found = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found += _exercises_in(point.load(), f"entry point {point.name} ({point.value})")
        except ToolError:
            raise
        except Exception as e:  # a broken pack must not look like a broken grader
            raise ToolError(f"The exercise pack {point.value!r} (entry point {point.name}) failed to load: "
                            f"{type(e).__name__}: {e}") from None
    return found


def _from_folder(folder: Path) -> list:
    if str(folder.parent) not in sys.path:
        sys.path.insert(0, str(folder.parent))
    try:
        module = importlib.import_module(folder.name)
    except Exception as e:  # noqa: BLE001
        raise ToolError(f"The exercise pack {folder} failed to load: {type(e).__name__}: {e}") from None
    if not hasattr(module, "EXERCISES"):
        raise ToolError(f"The exercise pack {folder} defines no EXERCISES in its __init__.py.")
    return _exercises_in(module.EXERCISES, str(folder))


def _exercises_in(value, where: str) -> list:
    from .exercises import Exercise

    if callable(value) and not isinstance(value, Exercise):
        value = value()
    items = [value] if isinstance(value, Exercise) else list(value) if isinstance(value, Iterable) else [value]
    wrong = [item for item in items if not isinstance(item, Exercise)]
    if wrong:
        raise ToolError(f"The exercise pack {where} gives {wrong[0]!r}, not a grader.grading.exercises.Exercise.")
    return items


def pack_folder(exercise) -> Path | None:
    """The package folder an added exercise's checks live in (None for a built-in one)."""
    if exercise.built_in:
        return None
    spec = importlib.util.find_spec(exercise.checks_module.partition(".")[0])
    if spec is None or not spec.origin:
        raise ToolError(f"Cannot find the pack of {exercise.name} ({exercise.checks_module}).")
    return Path(spec.origin).resolve().parent
