"""A small ResNet pretrained on some shapes classes, for the transfer-learning exercise.

Its attribute names are torchvision's (`conv1`, `bn1`, `layer1`..`layer4`, `fc`, a block's
`downsample`), so code written against this model also reads against `torchvision.models.resnet18`.
The weights ship as datasets/backbone.pt (grader/_datasets/ in a wheel), made by
datasets/make_backbone.py; they are checked against SHA256SUMS like the shapes files.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import data

SOURCE_CLASSES: tuple[int, ...] = (0, 1, 2, 3, 4)  # disc, square, triangle, plus, ring: what it was trained on
TARGET_CLASSES: tuple[int, ...] = (5, 6, 7)  # h_stripes, v_stripes, x: never seen in pretraining
CHECKPOINT = "backbone.pt"
REBUILD = "python datasets/make_backbone.py"


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers plus a shortcut; a 1x1 conv-BN shortcut when the shape changes."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()  # not in place: a hook that keeps bn1's output must not see it change
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class SmallResNet(nn.Module):
    """A ResNet-18-shaped network with one block per stage, sized for 32x32 images."""

    def __init__(self, num_classes: int = 5, widths: tuple[int, ...] = (16, 32, 64, 128), in_channels: int = 3):
        super().__init__()
        if len(widths) != 4:
            raise ValueError(f"widths needs one entry per stage (4), got {widths}")
        # A 3x3 stride-1 stem instead of ResNet's 7x7 stride 2: a 32x32 image has no pixels to spare.
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        # No pooling after the stem: measured, a 3x3/2 max-pool here halves the compute but costs about
        # 0.05 target accuracy after fine-tuning (0.95 against 1.00) and more with plain SGD.
        self.maxpool = nn.Identity()
        stages, width = [], widths[0]
        for out, stride in zip(widths, (1, 2, 2, 2)):
            stages.append(nn.Sequential(BasicBlock(width, out, stride)))
            width = out
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, w0, 32, 32)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))  # (N, w3, 4, 4)
        return self.fc(torch.flatten(self.avgpool(x), 1))  # (N, num_classes)


def pretrained_state() -> dict[str, torch.Tensor]:
    """The shipped weights (datasets/backbone.pt) as a state_dict, once its SHA-256 matches SHA256SUMS."""
    path = data.verified_path(CHECKPOINT, REBUILD)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a listed hash that matches a broken file: the list itself was edited
        raise data.DataError(f"{path} could not be read ({type(e).__name__}: {e}); rebuild it with `{REBUILD}`.") from e
    if not isinstance(state, dict) or not all(isinstance(t, torch.Tensor) for t in state.values()):
        raise data.DataError(f"{path} does not hold a state_dict of tensors; rebuild it with `{REBUILD}`.")
    return state


def pretrained_backbone() -> SmallResNet:
    """A SmallResNet with the shipped weights, classifying SOURCE_CLASSES (in that order), in eval mode."""
    model = SmallResNet(num_classes=len(SOURCE_CLASSES))
    model.load_state_dict(pretrained_state(), strict=True)
    return model.eval()


def target_split(per_class: int = 30, seed: int = 0,
                 val_per_class: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The few-shot task: per_class train images per target class, and val_per_class val images per target
    class (None: all of them), labels 0..k-1."""
    train_x, train_y = data.load_shapes("train")  # float32 (4800, 3, 32, 32), int64 (4800,)
    val_x, val_y = data.load_shapes("val")  # float32 (1600, 3, 32, 32), int64 (1600,)
    available = int(np.bincount(train_y).min())
    if not 1 <= per_class <= available:
        raise ValueError(f"per_class must be in 1..{available}, got {per_class}")
    rng = np.random.default_rng(seed)
    picked = np.concatenate([rng.choice(np.flatnonzero(train_y == c), per_class, replace=False)
                             for c in TARGET_CLASSES])
    picked = rng.permutation(picked)  # mixed classes, so that even an unshuffled loader sees all of them
    relabel = np.full(len(data.CLASSES), -1, dtype=np.int64)
    relabel[list(TARGET_CLASSES)] = np.arange(len(TARGET_CLASSES))  # TARGET_CLASSES order becomes 0..k-1
    keep = np.flatnonzero(np.isin(val_y, TARGET_CLASSES))
    if val_per_class is not None:  # drawn after the training images, so those stay what they were for a seed
        keep = np.sort(np.concatenate([rng.choice(np.flatnonzero(val_y == c), val_per_class, replace=False)
                                       for c in TARGET_CLASSES]))
    return train_x[picked], relabel[train_y[picked]], val_x[keep], relabel[val_y[keep]]


def train_from_scratch(seed: int, split: tuple[np.ndarray, ...], *, epochs: int, batch_size: int, lr: float,
                       widths: tuple[int, ...] = (16, 32, 64, 128)) -> dict:
    """The grader's reference run from random weights: {"accuracy": on the split's val images, "losses": per epoch}.

    Everything trains (so every BatchNorm is in train mode) with Adam on the same shuffled batches a student's
    fine_tune gets; one thread, restored afterwards, so a seed gives the same numbers in any process.
    """
    from torch.utils.data import DataLoader, TensorDataset

    from .sandbox.trainer import Adam  # torch.optim.Adam's arithmetic, without importing torch._dynamo

    train_x, train_y, val_x, val_y = (torch.from_numpy(np.array(a)) for a in split)  # writable copies
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        model = SmallResNet(num_classes=int(train_y.max()) + 1, widths=tuple(widths))
        loader = DataLoader(TensorDataset(train_x, train_y), batch_size=batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        optimizer = Adam(model.parameters(), lr=lr)
        model.train()
        losses = []
        for _ in range(epochs):
            seen = []
            for images, labels in loader:
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(images), labels)
                loss.backward()
                optimizer.step()
                seen.append(loss.item())
            losses.append(sum(seen) / len(seen))
        model.eval()
        with torch.no_grad():
            scores = torch.cat([model(val_x[i:i + 400]) for i in range(0, len(val_x), 400)])
        accuracy = (scores.argmax(1) == val_y).double().mean().item()
    finally:
        torch.set_num_threads(threads)
    return {"accuracy": accuracy, "losses": losses}
