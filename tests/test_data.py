"""The shapes dataset: the generator is deterministic and rebuilds the shipped bytes; the loader checks them."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader import data
from grader.errors import ToolError

from tests.conftest import REPO

DATASETS = REPO / "datasets"
REBUILD = "python datasets/make_shapes.py"


@pytest.fixture(scope="module")
def make_shapes():
    """datasets/make_shapes.py as a module (datasets/ is a folder of files, not a package)."""
    spec = importlib.util.spec_from_file_location("make_shapes", DATASETS / "make_shapes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def shipped_data(monkeypatch):
    """Tests read the repository's datasets/ unless they point CNN_GRADE_DATA elsewhere themselves."""
    monkeypatch.delenv("CNN_GRADE_DATA", raising=False)


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the checksum file and the val split in tmp_path, chosen through CNN_GRADE_DATA."""
    for name in ("SHA256SUMS", "shapes_val.npz"):
        shutil.copy(DATASETS / name, tmp_path / name)
    monkeypatch.setenv("CNN_GRADE_DATA", str(tmp_path))
    return tmp_path


def test_generator_is_deterministic(make_shapes):
    images, labels = make_shapes.generate(64, seed=3)
    again, again_labels = make_shapes.generate(64, seed=3)
    other, _ = make_shapes.generate(64, seed=4)
    assert images.shape == (64, 3, 32, 32) and images.dtype == np.uint8 and labels.shape == (64,)
    assert np.array_equal(images, again) and np.array_equal(labels, again_labels)
    assert not np.array_equal(images, other)


def test_generator_and_loader_agree_on_classes(make_shapes):
    assert make_shapes.CLASSES == data.CLASSES
    assert len(data.CLASSES) == 8


def test_script_rebuilds_the_shipped_files(tmp_path):
    subprocess.run([sys.executable, str(DATASETS / "make_shapes.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    shipped = dict(reversed(line.split()) for line in (DATASETS / "SHA256SUMS").read_text().splitlines())
    for name in ("shapes_train.npz", "shapes_val.npz"):  # the backbone's line belongs to make_backbone.py
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == shipped[name], name


@pytest.mark.parametrize("split, per_class", [("train", 600), ("val", 200)])
def test_splits_are_balanced(split, per_class):
    _, labels = data.load_shapes(split)
    assert np.bincount(labels).tolist() == [per_class] * len(data.CLASSES)


def test_load_shapes_types_and_ranges():
    images, labels = data.load_shapes("val")
    assert images.dtype == np.float32 and images.shape == (1600, 3, 32, 32)
    assert labels.dtype == np.int64 and labels.shape == (1600,)
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert set(labels.tolist()) == set(range(len(data.CLASSES)))


def test_unknown_split_is_a_value_error():
    with pytest.raises(ValueError, match="test"):
        data.load_shapes("test")


def test_import_does_not_load_torch():
    code = "import sys, grader.data; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


def test_dataset_items():
    import torch

    dataset = data.ShapesDataset("val")
    image, label = dataset[5]
    assert isinstance(dataset, torch.utils.data.Dataset) and len(dataset) == 1600
    assert isinstance(image, torch.Tensor) and image.dtype == torch.float32 and image.shape == (3, 32, 32)
    assert type(label) is int and 0 <= label < len(data.CLASSES)
    assert dataset.class_names == data.CLASSES


def test_dataset_keeps_and_relabels_classes():
    images, labels = data.load_shapes("val")
    subset = data.ShapesDataset("val", classes=[5, 2])  # h_stripes -> 0, triangle -> 1
    assert len(subset) == 400 and subset.class_names == ("h_stripes", "triangle")
    assert sorted(set(subset.labels.tolist())) == [0, 1]
    assert np.array_equal(subset.images[subset.labels == 0].numpy(), images[labels == 5])
    assert np.array_equal(subset.images[subset.labels == 1].numpy(), images[labels == 2])


@pytest.mark.parametrize("classes", [[1, 1], [8], [-1]])
def test_dataset_rejects_bad_classes(classes):
    with pytest.raises(ValueError):
        data.ShapesDataset("val", classes=classes)


def test_data_dir_defaults_to_the_repository():
    assert data.data_dir() == DATASETS


# Where data_dir() looks, in a fresh interpreter importing a copy of grader/ laid out as an install
# lays it out: site/grader/ with the wheel's copy in grader/_datasets/, possibly a datasets/ beside it.
WHERE = "from grader import data; print(data.__file__); print(data.data_dir())"


@pytest.mark.parametrize("folders, env, chosen", [
    (["site/grader/_datasets"], {}, "site/grader/_datasets"),  # a wheel install, run from anywhere
    (["site/grader/_datasets", "work/datasets"], {}, "site/grader/_datasets"),  # its own data before the cwd's
    (["site/grader/_datasets", "site/datasets"], {}, "site/datasets"),  # the folder beside the package first
    (["work/datasets"], {}, "work/datasets"),  # no packaged copy: the current folder's
    (["site/grader/_datasets"], {"CNN_GRADE_DATA": "mine"}, "mine"),  # the explicit choice wins
], ids=["packaged", "packaged-before-cwd", "beside-before-packaged", "cwd", "environment"])
def test_data_dir_order_in_an_installed_layout(tmp_path, folders, env, chosen):
    shutil.copytree(REPO / "grader", tmp_path / "site" / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in [*folders, *env.values()]:
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(DATASETS / "SHA256SUMS", tmp_path / folder / "SHA256SUMS")
    (tmp_path / "work").mkdir(exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if k != "CNN_GRADE_DATA"}
    environment.update({k: str(tmp_path / v) for k, v in env.items()}, PYTHONPATH=str(tmp_path / "site"))

    done = subprocess.run([sys.executable, "-c", WHERE], cwd=tmp_path / "work", env=environment,
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    module, found = done.stdout.splitlines()
    assert Path(module).is_relative_to(tmp_path / "site"), module  # the copy, not this checkout's grader
    assert Path(found) == tmp_path / chosen


def test_an_install_without_data_names_every_place_it_looked(tmp_path):
    shutil.copytree(REPO / "grader", tmp_path / "site" / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    environment = {k: v for k, v in os.environ.items() if k != "CNN_GRADE_DATA"}
    environment["PYTHONPATH"] = str(tmp_path / "site")

    done = subprocess.run([sys.executable, "-c", WHERE], cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=60)

    assert done.returncode != 0
    assert "DataError: no datasets/ folder with SHA256SUMS beside the grader, in its package" in done.stderr
    assert "CNN_GRADE_DATA" in done.stderr


def test_data_error_is_a_tool_error():
    assert issubclass(data.DataError, ToolError)


def test_missing_data_file(data_copy):
    (data_copy / "shapes_val.npz").unlink()
    with pytest.raises(data.DataError) as raised:
        data.load_shapes("val")
    assert "shapes_val.npz" in str(raised.value) and REBUILD in str(raised.value)


def test_corrupt_data_file(data_copy):
    path = data_copy / "shapes_val.npz"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01  # one bit of one byte
    path.write_bytes(bytes(blob))
    with pytest.raises(data.DataError) as raised:
        data.load_shapes("val")
    assert "shapes_val.npz" in str(raised.value) and REBUILD in str(raised.value)


def test_missing_checksum_file(data_copy):
    (data_copy / "SHA256SUMS").unlink()
    with pytest.raises(data.DataError) as raised:
        data.load_shapes("val")
    assert "SHA256SUMS" in str(raised.value) and REBUILD in str(raised.value)


def test_missing_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("CNN_GRADE_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(data.DataError, match="make_shapes.py"):
        data.load_shapes("val")


def test_the_stored_pixels_are_read_once_read_only_and_scale_to_the_float_images():
    from grader.data import load_shapes, load_shapes_uint8, to_float

    images, labels = load_shapes_uint8("val")
    assert images.dtype == np.uint8 and images is load_shapes_uint8("val")[0]  # decompressed once per process
    assert not images.flags.writeable and not labels.flags.writeable
    floats, int_labels = load_shapes("val")
    assert floats.flags.writeable and np.array_equal(to_float(images), floats)
    assert np.array_equal(int_labels, labels) and int_labels.dtype == np.int64
