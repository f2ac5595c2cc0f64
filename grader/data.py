"""The shapes dataset shipped in datasets/ (and in a wheel as grader/_datasets/): find it, check its SHA-256, load it.

`import grader.data` stays cheap: NumPy only; torch is imported the first time `ShapesDataset`
is used (PEP 562 module __getattr__).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from .errors import ToolError

CLASSES: tuple[str, ...] = ("disc", "square", "triangle", "plus", "ring", "h_stripes", "v_stripes", "x")
FILES = {"train": "shapes_train.npz", "val": "shapes_val.npz"}
REBUILD = "python datasets/make_shapes.py"
SUMS = "SHA256SUMS"

_verified: set[tuple[str, int, int]] = set()  # (path, mtime_ns, size) whose hash matched


class DataError(ToolError):
    """The dataset folder, its checksum file or a data file is missing, or a file is corrupt."""


def data_dir() -> Path:
    """The dataset folder: $CNN_GRADE_DATA if set, else the first of the candidates holding SHA256SUMS."""
    chosen = os.environ.get("CNN_GRADE_DATA")
    if chosen:  # an explicit choice is never second-guessed by falling back elsewhere
        folder = Path(chosen)
        if not folder.is_dir():
            raise DataError(f"CNN_GRADE_DATA={chosen} is not a folder; point it at the datasets/ folder "
                            f"or rebuild the data with `{REBUILD}`.")
        if not (folder / SUMS).is_file():
            raise DataError(f"{folder / SUMS} is missing; rebuild it with `{REBUILD}`.")
        return folder
    package = Path(__file__).resolve().parent
    here = Path.cwd().resolve()
    # grader/.. is the repository in an editable install. A wheel or `pip install .` carries its own
    # copy in grader/_datasets (pyproject.toml maps datasets/ there); it comes before the current
    # folder because it is the data this grader's checks were made with, wherever the run starts.
    candidates = [package.parent / "datasets", package / "_datasets"] + [p / "datasets" for p in (here, *here.parents)]
    for folder in candidates:
        if (folder / SUMS).is_file():
            return folder
    raise DataError(f"no datasets/ folder with {SUMS} beside the grader, in its package or in {here} or its "
                    f"parents; set CNN_GRADE_DATA or rebuild the data with `{REBUILD}`.")


def _expected_hash(folder: Path, name: str, rebuild: str) -> str:
    for line in (folder / SUMS).read_text().splitlines():
        digest, _, listed = line.strip().partition(" ")
        if listed.strip().lstrip("*") == name:  # "HASH  name" (text mode) or "HASH *name" (binary)
            return digest.lower()
    raise DataError(f"{folder / SUMS} has no line for {name}; rebuild it and the list with `{rebuild}`.")


def _verify(path: Path, rebuild: str) -> None:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key in _verified:
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != _expected_hash(path.parent, path.name, rebuild):
        raise DataError(f"{path} does not match its SHA-256 in {SUMS} (corrupt or edited); "
                        f"rebuild it with `{rebuild}`.")
    _verified.add(key)


def verified_path(name: str, rebuild: str = REBUILD) -> Path:
    """The path of a file listed in SHA256SUMS, once its hash matches; else DataError naming `rebuild`."""
    path = data_dir() / name
    if not path.is_file():
        raise DataError(f"{path} is missing; rebuild it with `{rebuild}`.")
    _verify(path, rebuild)
    return path


def load_shapes(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """One split, checked: images float32 (N, 3, 32, 32) in [0, 1] and labels int64 (N,)."""
    images, labels = load_shapes_uint8(split)
    return to_float(images), labels.astype(np.int64)


def load_shapes_uint8(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """One split as stored: images uint8 (N, 3, 32, 32) and labels (N,); a quarter of the bytes to send.
    Read-only arrays, decompressed once per process and file version (a grading run reads a split several times)."""
    if split not in FILES:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(FILES)}")
    path = verified_path(FILES[split])
    stat = path.stat()
    return _read_npz(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _read_npz(path: str, mtime_ns: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path) as npz:
        images, labels = npz["images"], npz["labels"]  # uint8 (N, 3, 32, 32), (N,)
    images.flags.writeable = labels.flags.writeable = False  # shared by every caller
    return images, labels


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 pixels as the float32 images in [0, 1] every exercise sees (the one place the scaling is written)."""
    return images.astype(np.float32) / np.float32(255)


@functools.cache
def _dataset_class() -> type:
    import torch
    from torch.utils.data import Dataset

    class ShapesDataset(Dataset):
        """A split as (image float32 tensor (3, 32, 32), label int); `classes` keeps and relabels some."""

        def __init__(self, split: str = "train", classes: list[int] | tuple[int, ...] | None = None):
            images, labels = load_shapes(split)
            if classes is not None:
                classes = [int(c) for c in classes]
                if len(set(classes)) != len(classes) or not all(0 <= c < len(CLASSES) for c in classes):
                    raise ValueError(f"classes must be distinct indices in 0..{len(CLASSES) - 1}, got {classes}")
                keep = np.isin(labels, classes)
                new_label = np.full(len(CLASSES), -1, dtype=np.int64)
                new_label[classes] = np.arange(len(classes))  # the given order becomes 0..k-1
                images, labels = images[keep], new_label[labels[keep]]
            self.class_names = tuple(CLASSES[c] for c in (classes if classes is not None else range(len(CLASSES))))
            self.images = torch.from_numpy(images)  # (N, 3, 32, 32) float32, for whole-batch use
            self.labels = torch.from_numpy(labels)  # (N,) int64

        def __len__(self) -> int:
            return len(self.labels)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            return self.images[i], int(self.labels[i])

    ShapesDataset.__qualname__ = "ShapesDataset"  # so pickle finds it as grader.data.ShapesDataset
    return ShapesDataset


def __getattr__(name: str):
    if name == "ShapesDataset":
        return _dataset_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
