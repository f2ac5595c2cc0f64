"""What a sandbox child is given: its environment, its user, and the folders it may not see or change."""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import sysconfig
from pathlib import Path

from . import limits

GRADER_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds `grader/`
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "API_KEY", "CREDENTIAL")
HIDDEN = (os.path.join(GRADER_ROOT, "solutions"), "/sys/fs/cgroup")  # the instructor's keys; the cgroup controls


def scrubbed_env() -> dict[str, str]:
    """The environment student code sees: no grader settings (the seed!) and no credentials."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CNN_GRADE") and not any(w in k.upper() for w in SECRET_WORDS)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@functools.lru_cache(maxsize=1)
def run_as() -> tuple[int, int, str] | str:
    """The user student code runs as when the grader is root, or why it runs as the grader's own user."""
    paths = [sys.executable, GRADER_ROOT, *{sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}]
    return limits.unprivileged_user(paths)


@functools.lru_cache(maxsize=8)
def package_folders(blocked: tuple[str, ...]) -> list[str]:
    """The folders of the forbidden libraries installed here (the isolated child sees them empty)."""
    folders = []
    for name in blocked:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            folders += [str(Path(p).resolve()) for p in spec.submodule_search_locations]
    return folders


@functools.lru_cache(maxsize=1)
def readonly_folders() -> list[str]:
    """Folders the isolated child sees read-only: the grader and Python's own."""
    paths = sysconfig.get_paths()
    found = {GRADER_ROOT, sys.prefix, *(paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib"))}
    return sorted({str(Path(p).resolve()) for p in found if os.path.isdir(p)})
