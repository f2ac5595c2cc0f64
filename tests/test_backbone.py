"""The pretrained backbone: torchvision's names, the shipped weights and their checks, the few-shot split."""

from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from grader import backbone, data

from tests.conftest import REPO

DATASETS = REPO / "datasets"
REBUILD = "python datasets/make_backbone.py"
TOP = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]


@pytest.fixture(autouse=True)
def shipped_data(monkeypatch):
    """Tests read the repository's datasets/ unless they point CNN_GRADE_DATA elsewhere themselves."""
    monkeypatch.delenv("CNN_GRADE_DATA", raising=False)


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the checksum file and the checkpoint in tmp_path, chosen through CNN_GRADE_DATA."""
    for name in ("SHA256SUMS", backbone.CHECKPOINT):
        shutil.copy(DATASETS / name, tmp_path / name)
    monkeypatch.setenv("CNN_GRADE_DATA", str(tmp_path))
    return tmp_path


def test_top_level_names_and_order():
    model = backbone.SmallResNet()
    assert [name for name, _ in model.named_children()] == TOP
    assert isinstance(model.avgpool, nn.AdaptiveAvgPool2d) and isinstance(model.fc, nn.Linear)
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1) and model.conv1.bias is None


@pytest.mark.parametrize("widths", [(16, 32, 64, 128), (8, 16, 24, 40)])
def test_stages_are_one_basic_block_each(widths):
    model = backbone.SmallResNet(num_classes=3, widths=widths)
    width = widths[0]
    for i, (out, stride) in enumerate(zip(widths, (1, 2, 2, 2)), start=1):
        stage = getattr(model, f"layer{i}")
        assert isinstance(stage, nn.Sequential) and len(stage) == 1
        block = stage[0]
        assert isinstance(block, backbone.BasicBlock)
        assert [name for name, _ in block.named_children()][:5] == ["conv1", "bn1", "relu", "conv2", "bn2"]
        assert hasattr(block, "downsample")  # None, and so not a child, when the shape stays
        assert block.conv1.stride == (stride, stride) and block.conv1.bias is None and block.conv2.bias is None
        assert (block.conv1.in_channels, block.conv2.out_channels) == (width, out)
        if stride == 1 and width == out:
            assert block.downsample is None
        else:
            conv, bn = block.downsample
            assert conv.kernel_size == (1, 1) and conv.stride == (stride, stride) and conv.bias is None
            assert isinstance(bn, nn.BatchNorm2d) and bn.num_features == out
        width = out
    assert model.fc.in_features == widths[-1] and model.fc.out_features == 3


def test_state_dict_keys_read_like_torchvision():
    keys = set(backbone.SmallResNet().state_dict())
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
            "layer2.0.downsample.1.running_var", "layer4.0.bn2.num_batches_tracked", "fc.weight", "fc.bias"} <= keys
    assert not any(key.startswith("layer1.0.downsample") for key in keys)


def test_parameter_count_and_output_shape():
    model = backbone.SmallResNet()
    assert 250_000 < sum(p.numel() for p in model.parameters()) < 350_000
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 5)
    other = backbone.SmallResNet(num_classes=7, widths=(8, 16, 24, 40), in_channels=1)
    assert other(torch.zeros(2, 1, 32, 32)).shape == (2, 7)


def test_source_and_target_classes_split_the_classes():
    source, target = set(backbone.SOURCE_CLASSES), set(backbone.TARGET_CLASSES)
    assert not source & target and source | target <= set(range(len(data.CLASSES)))
    assert len(target) >= 2 and len(backbone.TARGET_CLASSES) == len(target)


def test_pretrained_state_matches_the_architecture():
    state = backbone.pretrained_state()
    expected = backbone.SmallResNet(num_classes=len(backbone.SOURCE_CLASSES)).state_dict()
    assert {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in expected.items()}
    assert all(t.device.type == "cpu" for t in state.values())


def test_pretrained_backbone_classifies_the_source_classes():
    model = backbone.pretrained_backbone()
    assert not model.training
    images, labels = data.load_shapes("val")
    keep = np.isin(labels, backbone.SOURCE_CLASSES)
    relabel = {c: i for i, c in enumerate(backbone.SOURCE_CLASSES)}
    targets = torch.tensor([relabel[c] for c in labels[keep]])
    with torch.no_grad():
        predicted = model(torch.from_numpy(images[keep])).argmax(1)
    assert (predicted == targets).float().mean().item() >= 0.97  # 1.000 when it was made


def test_missing_checkpoint(data_copy):
    (data_copy / backbone.CHECKPOINT).unlink()
    with pytest.raises(data.DataError) as raised:
        backbone.pretrained_state()
    assert backbone.CHECKPOINT in str(raised.value) and REBUILD in str(raised.value)


def test_corrupt_checkpoint(data_copy):
    path = data_copy / backbone.CHECKPOINT
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01  # one bit of one weight
    path.write_bytes(bytes(blob))
    with pytest.raises(data.DataError) as raised:
        backbone.pretrained_backbone()
    assert backbone.CHECKPOINT in str(raised.value) and REBUILD in str(raised.value)


def test_checkpoint_not_listed(data_copy):
    sums = data_copy / "SHA256SUMS"
    sums.write_text("".join(line + "\n" for line in sums.read_text().splitlines() if "backbone" not in line))
    with pytest.raises(data.DataError) as raised:
        backbone.pretrained_state()
    assert backbone.CHECKPOINT in str(raised.value) and REBUILD in str(raised.value)


def test_target_split_sizes_and_labels():
    train_x, train_y, val_x, val_y = backbone.target_split(per_class=30, seed=0)
    k = len(backbone.TARGET_CLASSES)
    assert train_x.shape == (30 * k, 3, 32, 32) and train_x.dtype == np.float32
    assert train_y.dtype == np.int64 and np.bincount(train_y).tolist() == [30] * k
    assert val_x.shape == (200 * k, 3, 32, 32) and np.bincount(val_y).tolist() == [200] * k


def test_target_split_relabels_in_target_order():
    _, _, val_x, val_y = backbone.target_split(per_class=1)
    images, labels = data.load_shapes("val")
    for new, old in enumerate(backbone.TARGET_CLASSES):
        assert np.array_equal(val_x[val_y == new], images[labels == old])


def test_target_split_is_deterministic():
    first, again, other = (backbone.target_split(per_class=10, seed=s) for s in (3, 3, 4))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("per_class", [0, 601])
def test_target_split_rejects_impossible_sizes(per_class):
    with pytest.raises(ValueError, match="per_class"):
        backbone.target_split(per_class=per_class)


def test_make_backbone_keeps_the_other_sums(tmp_path):
    spec = importlib.util.spec_from_file_location("make_backbone", DATASETS / "make_backbone.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "SHA256SUMS").write_text("aa  shapes_train.npz\nbb  backbone.pt\ncc  shapes_val.npz\n")
    (tmp_path / "backbone.pt").write_bytes(b"weights")
    module.write_sums(tmp_path, tmp_path / "backbone.pt")
    lines = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert lines[:2] == ["aa  shapes_train.npz", "cc  shapes_val.npz"]
    assert lines[2].endswith("  backbone.pt") and len(lines) == 3
