"""Exercise 5's from-scratch comparison: the grader's own reference run per seed, computed once and cached.

The figure only sets the scene beside the student's fine-tuned accuracy, and it does not depend on the student,
so it is trained in the grading process (never in the child, where student code could tamper with it) once per
seed: shipped in scratch_reference.json for the default seeds, kept under $XDG_CACHE_HOME/cnn-grade (or
~/.cache/cnn-grade) for others. Entries carry the settings they were made with; a file that is missing, corrupt
or made with other settings is ignored and the run is redone, so a cache can cost time but never change a figure.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

SHIPPED = Path(__file__).with_name("scratch_reference.json")
CACHE_NAME = "scratch_reference.json"
VERSION = 1  # bump when the reference run itself changes


def cache_path() -> Path:
    """The user cache file: $XDG_CACHE_HOME/cnn-grade/, else ~/.cache/cnn-grade/."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "cnn-grade" / CACHE_NAME


def settings(per_class: int, val_per_class: int | None, epochs: int, batch_size: int, lr: float,
             widths: tuple[int, ...]) -> dict:
    """What a reference figure depends on: the budget, the network, the data files' hashes, torch's version."""
    import torch

    from .. import data

    sums = (data.data_dir() / data.SUMS).read_text().split()
    hashes = {name: sums[sums.index(name) - 1] if name in sums else None for name in data.FILES.values()}
    return {"version": VERSION, "per_class": per_class, "val_per_class": val_per_class, "epochs": epochs,
            "batch_size": batch_size, "lr": lr, "widths": list(widths), "data": hashes,
            "torch": ".".join(torch.__version__.split("+")[0].split(".")[:2])}


def _valid(entry) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("accuracy"), (int, float))
            and 0 <= entry["accuracy"] <= 1 and isinstance(entry.get("losses"), list) and entry["losses"]
            and all(isinstance(v, (int, float)) and math.isfinite(v) for v in entry["losses"]))


def _read(path: Path, wanted: dict) -> dict:
    """The seeds of a cache file made with `wanted` settings; {} when it is missing, unreadable or other."""
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(content, dict) or content.get("settings") != wanted or not isinstance(content.get("seeds"), dict):
        return {}
    return {str(k): v for k, v in content["seeds"].items() if _valid(v)}


def write(path: Path, wanted: dict, seeds: dict) -> None:
    """Write a cache file atomically (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".scratch-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"settings": wanted, "seeds": seeds}, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def reference(seed: int, wanted: dict, compute) -> dict:
    """{"accuracy", "losses"} of the reference run for `seed`: shipped, cached, or `compute()`d and cached."""
    for path in (SHIPPED, cache_path()):
        found = _read(path, wanted).get(str(seed))
        if found is not None:
            return found
    result = compute()
    result = {"accuracy": float(result["accuracy"]), "losses": [float(v) for v in result["losses"]]}
    try:
        path = cache_path()
        write(path, wanted, {**_read(path, wanted), str(seed): result})
    except OSError:  # a read-only or full home: the figure is still right, only not kept
        pass
    return result
