"""`cnn-grade gradescope-bundle`: an autograder.zip for Gradescope, and the grading run inside it.

The zip holds setup.sh and run_autograder at its root (Gradescope's contract), the kit itself in
cnn-grade/ (what `pip install` needs, datasets/ included; never solutions/ or tests/) and
cnn-grade.json (exercise, seed, visibility). Inside Gradescope, run_autograder calls
`python -m grader.classroom.autograder /autograder` (grader/classroom/autograder.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shlex
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ToolError
from ..grading.exercises import resolve
from ..report.gradescope import GRADESCOPE_VISIBILITIES

if TYPE_CHECKING:
    from rich.console import Console

KIT = "cnn-grade"  # the kit's folder in the zip: /autograder/source/cnn-grade
CONFIG = "cnn-grade.json"
KIT_FILES = ("pyproject.toml", "README.md", "LICENSE")  # pyproject.toml names README.md and LICENSE
KIT_FOLDERS = ("grader", "datasets")
SKIPPED = ("__pycache__", "__MACOSX", ".ipynb_checkpoints")  # plus every name starting with "."
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time zip can store: equal inputs give equal bytes
# PyTorch's official CPU-only wheel index. Gradescope has no GPU, and the default Linux wheel of torch
# brings gigabytes of CUDA libraries, so setup.sh installs torch from here unless told otherwise.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_INDEX_ARGS = f"--index-url {TORCH_CPU_INDEX}"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image.
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
VENV="${{CNN_GRADE_VENV:-/opt/cnn-grade}}"
# torch goes in first so that installing the kit keeps it. TORCH_SPEC and PIP_INDEX_ARGS, set in
# the environment, replace the choice made when the bundle was built (by default the CPU-only build:
# Gradescope has no GPU); PIP_INDEX_ARGS="" installs the default build, with CUDA on Linux.
if [ -z "${{TORCH_SPEC+set}}" ]; then TORCH_SPEC={torch_spec}; fi
if [ -z "${{PIP_INDEX_ARGS+set}}" ]; then PIP_INDEX_ARGS={pip_index_args}; fi

# A venv sidesteps distributions that refuse pip installs into the system Python; Ubuntu ships
# venv's pip only in python3-venv.
if command -v apt-get >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv python3-pip
fi
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else
    "cnn-grade needs Python 3.10 or newer: choose an Ubuntu 22.04 (or newer) base image.")'
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
read -r -a INDEX_ARGS <<< "$PIP_INDEX_ARGS"
"$VENV/bin/python" -m pip install "${{INDEX_ARGS[@]}}" "$TORCH_SPEC"
"$VENV/bin/python" -m pip install "$SOURCE/{kit}"
"$VENV/bin/python" -m grader --version
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission. It always leaves results/results.json behind.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-${{CNN_GRADE_VENV:-/opt/cnn-grade}}/bin/python}}"
[ -x "$PYTHON" ] || PYTHON=python3
# The bundle's datasets/, checked against SHA256SUMS when the zip was built (the installed kit has a copy too).
export CNN_GRADE_DATA="${{CNN_GRADE_DATA:-$ROOT/source/{kit}/datasets}}"
# An exercise a course pack adds: the pack travels in the kit, named by its own cnn-grade.toml.
if [ -f "$ROOT/source/{kit}/cnn-grade.toml" ]; then export CNN_GRADE_CONFIG="$ROOT/source/{kit}/cnn-grade.toml"; fi
"$PYTHON" -m grader.classroom.autograder "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    mkdir -p "$ROOT/results"
    message="The autograder could not start (exit status $status), so nothing was graded. Tell your instructor."
    printf '{{"score": 0.0, "output": "%s", "output_format": "text"}}\\n' "$message" > "$ROOT/results/results.json"
fi
exit 0
"""


@dataclass(frozen=True)
class BundleResult:
    """What `gradescope_bundle` wrote."""

    path: Path
    exercise: str
    points: float
    files: int  # entries in the zip
    size: int  # bytes
    unchanged: bool  # the file already held exactly these bytes
    seed: int | None
    visibility: str
    hidden: tuple[str, ...]
    hidden_visibility: str
    torch_spec: str  # what setup.sh asks pip for as torch
    pip_index_args: str  # and with which options


def kit_root() -> Path:
    """The folder holding pyproject.toml, grader/ and datasets/ of the installed kit, or a ToolError."""
    root = Path(__file__).resolve().parents[2]
    project = root / "pyproject.toml"
    if not (project.is_file() and 'name = "cnn-grade"' in project.read_text(encoding="utf-8", errors="replace")
            and (root / "datasets" / "SHA256SUMS").is_file()):
        raise ToolError(f"The kit's sources are not beside the installed grader ({root} has no cnn-grade "
                        f"pyproject.toml or datasets/): install the course folder with `pip install -e .` "
                        f"and build the bundle from there.")
    return root


def gradescope_bundle(exercise: str, *, out: Path = Path("autograder.zip"), visibility: str = "visible",
                      hidden: tuple[str, ...] = (), hidden_visibility: str = "hidden", seed: int | None = None,
                      torch_spec: str = "torch", pip_index_args: str | None = None,
                      kit: Path | None = None) -> BundleResult:
    """Write a Gradescope autograder zip that grades `exercise`; `hidden` checks get `hidden_visibility`."""
    ex, out = resolve(exercise), Path(out)
    if pip_index_args is None:  # torch's CPU-only build; "" is the default build from pip's own index
        pip_index_args = CPU_INDEX_ARGS
    if out.is_dir():
        raise ToolError(f"--out {out} is a folder; give the zip's file name, e.g. {out / 'autograder.zip'}.")
    for value in (visibility, hidden_visibility):
        if value not in GRADESCOPE_VISIBILITIES:
            raise ToolError(f"Unknown visibility {value!r}: use one of {', '.join(GRADESCOPE_VISIBILITIES)}.")
    specs = ex.checks()
    unknown = sorted(set(hidden) - {s.name for s in specs})
    if unknown:
        raise ToolError(f"{ex.name} has no check {', '.join(unknown)}. Its checks: {', '.join(s.name for s in specs)}.")
    hidden = tuple(s.name for s in specs if s.name in set(hidden))  # declaration order, no repeats
    root = kit or kit_root()
    config = {"exercise": ex.name, "seed": seed, "visibility": visibility,
              "per_check": {name: hidden_visibility for name in hidden}}
    scripts = {"setup.sh": SETUP_SH.format(kit=KIT, torch_spec=shlex.quote(torch_spec),
                                           pip_index_args=shlex.quote(pip_index_args)),
               "run_autograder": RUN_AUTOGRADER.format(kit=KIT)}
    entries = {name: (text.encode(), 0o755) for name, text in scripts.items()}
    entries[CONFIG] = ((json.dumps(config, indent=2) + "\n").encode(), 0o644)
    for path in _kit_files(root, out):
        entries[f"{KIT}/{path.relative_to(root).as_posix()}"] = (path.read_bytes(), 0o644)
    entries.update(_pack_entries(ex, out))
    _check_datasets(root, entries)
    data = _zip(entries)
    unchanged = out.is_file() and out.read_bytes() == data
    if not unchanged:
        _write_bytes_atomic(out, data)
    return BundleResult(out, ex.name, float(sum(s.points for s in specs)), len(entries), len(data), unchanged,
                        seed, visibility, hidden, hidden_visibility, torch_spec, pip_index_args)


def _kit_files(root: Path, out: Path) -> list[Path]:
    missing = [name for name in (*KIT_FILES, *KIT_FOLDERS) if not (root / name).exists()]
    if missing:
        raise ToolError(f"{root} is not a complete cnn-grade kit: {', '.join(missing)} missing.")
    out = out.resolve()
    files = [root / name for name in KIT_FILES]
    for folder in KIT_FOLDERS:
        files += _files_below(root / folder, out)
    return files


def _files_below(folder: Path, out: Path) -> list[Path]:
    out = out.resolve()
    files = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        wanted = path.suffix not in (".pyc", ".pyo") and not any(p in SKIPPED or p.startswith(".") for p in parts)
        if wanted and path.is_file() and not path.is_symlink() and path.resolve() != out:
            files.append(path)
    return files


def _pack_entries(ex, out: Path) -> dict[str, tuple[bytes, int]]:
    """An added exercise's pack (never its key) and a cnn-grade.toml naming it; nothing for a built-in one."""
    from ..grading.packs import CONFIG_NAME, pack_folder

    folder = pack_folder(ex)
    if folder is None:
        return {}
    keys = Path(ex.key_file).resolve().parent if ex.key_file else None
    entries = {f"{KIT}/{CONFIG_NAME}": (f'packs = ["packs/{folder.name}"]\n'.encode(), 0o644)}
    for path in _files_below(folder, out):
        if keys is None or keys not in path.resolve().parents:
            entries[f"{KIT}/packs/{folder.name}/{path.relative_to(folder).as_posix()}"] = (path.read_bytes(), 0o644)
    return entries


def _check_datasets(root: Path, entries: dict[str, tuple[bytes, int]]) -> None:
    # A corrupt data file would fail every exercise-3 and -5 submission on Gradescope: refuse it here.
    for line in (root / "datasets" / "SHA256SUMS").read_text().splitlines():
        digest, _, name = line.strip().partition(" ")
        name = name.strip().lstrip("*")
        if not name:
            continue
        data = entries.get(f"{KIT}/datasets/{name}", (None, 0))[0]
        if data is None or hashlib.sha256(data).hexdigest() != digest.lower():
            raise ToolError(f"datasets/{name} is missing or does not match datasets/SHA256SUMS; rebuild it "
                            f"(see datasets/README.md) before bundling.")


def _zip(entries: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            data, mode = entries[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.create_system = 3  # Unix, so unzip honours the mode below (run_autograder must be executable)
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    # A temporary file in the same folder, then a rename: an interrupted build leaves the old zip whole.
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        raise ToolError(f"Cannot write {path}: {e.strerror or e}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)  # already gone after a successful rename


def print_bundle(result: BundleResult, console: Console) -> None:
    """Say what was written and how to use it."""
    state = "unchanged" if result.unchanged else "wrote"
    console.print(f"[bold]{state}[/] {result.path} ({result.size / 1e6:.1f} MB, {result.files} files): "
                  f"grades {result.exercise} out of {result.points:g} points")
    seed = result.seed if result.seed is not None else "the exercise's default (as students see it locally)"
    console.print(f"  seed: {seed}")
    console.print(f"  results visible: {result.visibility}")
    if result.hidden:
        console.print(f"  held back ({result.hidden_visibility}): {', '.join(result.hidden)}")
    install = " ".join(part for part in ("pip install", result.pip_index_args, shlex.quote(result.torch_spec)) if part)
    build = " (the CPU-only build)" if result.pip_index_args == CPU_INDEX_ARGS else ""
    console.print(f"  torch: {install}{build}", markup=False, highlight=False, soft_wrap=True)  # one line to copy
    console.print("Upload it as the autograder of a Gradescope programming assignment (Ubuntu 22.04 or newer base "
                  f"image) worth {result.points:g} points; students submit {result.exercise}.py or .ipynb.")
