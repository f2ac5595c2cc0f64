"""A wheel works as shipped: built from the sources, installed into a fresh venv, grading from an empty folder.

Slow (about half a minute: a wheel build, a venv and two graded exercises) but part of the normal run.
The venv sees the system's packages (torch, numpy) so nothing is downloaded; the wheel is built with
the installed setuptools (--no-build-isolation) and installed without an index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

# What a build must not find in the copied tree: the repository's own build leftovers and caches.
NOT_SOURCES = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache",
                                     ".hypothesis", ".venv", "venv")
BIN, EXE = ("Scripts", ".exe") if os.name == "nt" else ("bin", "")


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from a copy of the working tree (the build writes build/ and egg-info beside it)."""
    source = tmp_path_factory.mktemp("source") / "cnn-grade"
    shutil.copytree(REPO, source, ignore=NOT_SOURCES)
    out = tmp_path_factory.mktemp("dist")
    # --check-build-dependencies: the installed setuptools must meet pyproject.toml's build-system.requires
    # (if not: python -m pip install "setuptools>=77,<85").
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--check-build-dependencies",
         "--no-index", "--disable-pip-version-check", "-w", out, source])
    (built,) = out.glob("cnn_grade-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A fresh venv over the system's packages with the wheel installed; its python."""
    root = tmp_path_factory.mktemp("venv")
    # Without its own pip: `-m pip` finds the system's through --system-site-packages and installs into the venv.
    run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", root])
    python = root / BIN / f"python{EXE}"
    # --ignore-installed: the system may hold cnn-grade itself (the editable install of this checkout).
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
         "--disable-pip-version-check", wheel])
    return python


@pytest.fixture
def outside(tmp_path) -> tuple[Path, dict[str, str]]:
    """An empty folder far from the repository, and an environment that names no data folder or sources."""
    env = {k: v for k, v in os.environ.items() if k not in ("CNN_GRADE_DATA", "PYTHONPATH", "CNN_GRADE_SEED")}
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder, env


def test_the_wheel_holds_the_package_and_its_data_and_nothing_of_the_course(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        packaged = {name: archive.read(f"grader/_datasets/{name}") for name in listed_data()}

    assert {n.split("/")[0] for n in names} == {"grader", wheel.name.split("-py")[0] + ".dist-info"}
    assert not [n for n in names if n.startswith(("solutions/", "tests/", "exercises/", "datasets/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "grader").rglob("*.py")} - names
    assert not modules, f"not in the wheel (a subpackage missing from pyproject.toml's packages?): {modules}"
    assert {f"grader/statements/{p.name}" for p in (REPO / "grader" / "statements").glob("*.md")} <= names
    # The training checks' cached reference runs: without them every run of a default seed would train them again.
    assert {f"grader/checks/{p.name}" for p in (REPO / "grader" / "checks").glob("*.json")} <= names
    assert {"grader/checks/mlp_runs.json", "grader/checks/scratch_reference.json"} <= names
    for name, blob in packaged.items():
        assert blob == (REPO / "datasets" / name).read_bytes(), name
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_the_installed_grader_reads_its_own_copy_of_the_data(venv, outside):
    folder, env = outside
    probe = "import grader, grader.data as d; print(grader.__file__); print(d.data_dir())"

    lines = run([venv, "-c", probe], cwd=folder, env=env).stdout.splitlines()

    package = Path(lines[0]).parent
    assert package.is_relative_to(venv.parent.parent), f"{package} is not the venv's grader"
    assert Path(lines[1]) == package / "_datasets"


@pytest.mark.parametrize("exercise", ["exercise3", "exercise5"])
def test_the_installed_command_grades_the_key_with_full_marks(venv, outside, exercise):
    folder, env = outside
    key = REPO / "solutions" / f"{exercise}.py"

    proc = subprocess.run([str(venv.parent / f"cnn-grade{EXE}"), exercise, "--file", str(key), "--format", "json"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)

    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["score"] == report["max_score"] > 0
    assert os.listdir(folder) == []  # a grading run leaves nothing in the folder it ran from


def listed_data() -> list[str]:
    """SHA256SUMS and every file it lists."""
    lines = (REPO / "datasets" / "SHA256SUMS").read_text().splitlines()
    return ["SHA256SUMS", *(line.split(maxsplit=1)[1].lstrip("*") for line in lines if line.strip())]
