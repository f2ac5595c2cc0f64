"""The last score of each student file, so `cnn-grade list` can say how far along it is."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..files import replace_atomically
from ..grading.results import Report


def cache_path() -> Path:
    """Where scores are kept: $CNN_GRADE_CACHE, else the user's cache folder."""
    if os.environ.get("CNN_GRADE_CACHE"):
        return Path(os.environ["CNN_GRADE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnn-grade" / "scores.json"


def _key(path: Path) -> str:
    return str(path.resolve())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load() -> dict:
    try:
        data = json.loads(cache_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def record(report: Report) -> None:
    """Remember a run's score for its file (best effort: an unwritable cache never costs the student the report)."""
    path = Path(report.submission)
    try:
        data = _load()
        data[_key(path)] = {"sha256": _digest(path), "score": report.score, "max_score": report.max_score}
        replace_atomically(cache_path(), json.dumps(data, indent=1))
    except OSError:
        pass


def last_score(path: Path) -> tuple[float, float] | None:
    """(score, max) from the last run on this exact file content, or None."""
    entry = _load().get(_key(path))
    try:
        if entry and entry.get("sha256") == _digest(path):
            return float(entry["score"]), float(entry["max_score"])
    except (OSError, TypeError, ValueError):
        pass
    return None
