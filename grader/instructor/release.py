"""A student release: the grader, its data, pyproject.toml and a README, copied beside the built exercises.

What goes in is the source tree this grader runs from, minus caches and everything instructors keep:
no solutions/, no tests/.
"""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

from ..errors import ToolError
from ..grading.exercises import Exercise

RELEASE_TREES = ("grader", "datasets")  # copied whole into a release, minus caches
PROJECT = Path(__file__).resolve().parents[2]  # the source tree this grader runs from


def release_folder(out: Path, source: Path) -> Path:
    """The release folder, refused where writing it would touch the keys or the course itself."""
    out = out.expanduser().resolve()
    course, keys = source.resolve().parent, source.resolve()
    if out in (course, PROJECT):
        raise ToolError(f"--out {out} is the course folder itself: give a new folder for the release, "
                        f"or leave out --out to build exercises/ in place.")
    for inside in (keys, *(PROJECT / tree for tree in RELEASE_TREES)):
        if out == inside or inside in out.parents:
            raise ToolError(f"--out {out} is inside {inside}: give a folder of its own for the release.")
    if out.exists() and not out.is_dir():
        raise ToolError(f"--out {out} is a file, not a folder.")
    if (out / "solutions").exists():
        raise ToolError(f"{out} holds a solutions/ folder, which a student release must not: choose another folder.")
    return out


def release_files(exercises: list[Exercise]) -> dict[str, str | bytes]:
    """Everything of a student release besides the exercises: pyproject.toml, README.md, LICENSE, grader/, datasets/."""
    if not (PROJECT / "pyproject.toml").is_file() or not (PROJECT / "datasets").is_dir():
        raise ToolError(f"--out needs the cnn-grade source tree (pyproject.toml and datasets/ beside grader/), "
                        f"but this cnn-grade runs from {PROJECT / 'grader'} without them.")
    files: dict[str, str | bytes] = {"pyproject.toml": (PROJECT / "pyproject.toml").read_bytes(),
                                     "README.md": release_readme(exercises)}
    if (PROJECT / "LICENSE").is_file():  # pyproject.toml names it among its license files
        files["LICENSE"] = (PROJECT / "LICENSE").read_bytes()
    for tree in RELEASE_TREES:
        for path in sorted((PROJECT / tree).rglob("*")):
            relative = path.relative_to(PROJECT)
            if path.is_file() and not _skipped(relative):
                files[relative.as_posix()] = path.read_bytes()
    _check_pyproject(files["pyproject.toml"])
    return files


def _skipped(relative: Path) -> bool:
    """Caches, compiled files, hidden files and earlier backups stay out of a release."""
    return (any(part == "__pycache__" or part.startswith(".") or part.endswith(".egg-info") for part in relative.parts)
            or relative.suffix in (".pyc", ".pyo") or ".bak-" in relative.name)


def _check_pyproject(data: bytes) -> None:
    """The release's pyproject.toml must install the grader package and the cnn-grade command."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same reader, as a package (a dependency there)
        import tomli as tomllib
    try:
        project = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ToolError(f"pyproject.toml cannot be read: {e}") from None
    scripts = project.get("project", {}).get("scripts", {})
    packages = project.get("tool", {}).get("setuptools", {}).get("packages", {})
    if isinstance(packages, dict):
        found = packages.get("find", {})
        includes = found.get("include", ["*"])
        finds = found.get("where", ["."]) in (["."], ["./"]) and any(fnmatch("grader", p) for p in includes)
    else:
        finds = "grader" in packages
    if "cnn-grade" not in scripts or not finds:
        raise ToolError("pyproject.toml would not install the grader package and the cnn-grade command "
                        "([project.scripts] cnn-grade, [tool.setuptools.packages] grader); a release needs both.")


def release_readme(exercises: list[Exercise]) -> str:
    """The README of a student release: the exercises, how to start, and the commands."""
    rows = "\n".join(f"| `{ex.name}` | `{ex.slug}` | {ex.title} | {sum(c.points for c in ex.checks()):g} |"
                     for ex in exercises)
    first = exercises[0].name
    return f"""# Convolutional-network exercises

Each exercise is graded on your own machine in seconds by `cnn-grade`, which says which check
failed and why.

| exercise | alias | what you write | points |
|---|---|---|---|
{rows}

`cnn-grade show {first}` prints the statement of an exercise.

## Start

From this folder (Python 3.10 or newer):

```bash
pip install -e . && cnn-grade {first}
```

The first run grades the untouched stub `exercises/{first}.py`: every check says "not implemented
yet" and the score is 0. Write your code in that file and run `cnn-grade {first}` again.

Each exercise is also a Jupyter notebook, `exercises/{first}.ipynb`, holding the statement, the same
stub and a last cell that grades it. Work in the `.py` file or in the notebook: `cnn-grade {first}`
grades the one you changed (if you change both, choose with `--file`).

## Commands

```
cnn-grade {first}              grade exercises/{first}.py or .ipynb
cnn-grade {first} --file F     grade another file (.py or .ipynb)
cnn-grade list                   the exercises, their points, and how far along your files are
cnn-grade show {first}         the task statement
cnn-grade all                    grade every exercise, then a summary table
cnn-grade {first} -v           with tracebacks and everything your code printed
```

Exit codes: 0 every check passed, 1 some check failed, 2 the tool could not run (a missing file,
an unknown exercise) with one message saying why.
"""
