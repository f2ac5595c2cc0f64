"""Pretrain the course's SmallResNet on the source classes of the shapes train split.

Run from the repository root:  python datasets/make_backbone.py [--out DIR]
Writes backbone.pt (a state_dict) and adds its line to SHA256SUMS, keeping every other line.
It trains from the shipped shapes files, so those must be in place and intact first.

Training is seeded and single-threaded, so reruns on one machine give the same bytes; another
CPU or torch build may round differently and produce other (equally good) weights.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import torch
from torch import nn

from grader.backbone import CHECKPOINT, SOURCE_CLASSES, SmallResNet
from grader.data import CLASSES, SUMS, load_shapes

SEED, STEPS, BATCH, LR = 0, 400, 64, 1e-3


def source_only(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the source classes and relabel them 0..k-1 in SOURCE_CLASSES order."""
    relabel = torch.full((len(CLASSES),), -1, dtype=torch.int64)
    relabel[list(SOURCE_CLASSES)] = torch.arange(len(SOURCE_CLASSES))
    keep = torch.isin(labels, torch.tensor(SOURCE_CLASSES))
    return images[keep], relabel[labels[keep]]


def pretrain() -> tuple[SmallResNet, float]:
    """Adam on shuffled batches of the source classes (a new order every epoch); the model and seconds."""
    images, labels = source_only(*map(torch.from_numpy, load_shapes("train")))  # (3000, 3, 32, 32), (3000,)
    torch.manual_seed(SEED)
    model = SmallResNet(num_classes=len(SOURCE_CLASSES))
    order = torch.Generator().manual_seed(SEED)
    optimiser = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    perm, at = torch.randperm(len(labels), generator=order), 0
    for _ in range(STEPS):
        if at + BATCH > len(labels):
            perm, at = torch.randperm(len(labels), generator=order), 0
        idx = perm[at:at + BATCH]
        at += BATCH
        optimiser.zero_grad()
        loss_fn(model(images[idx]), labels[idx]).backward()
        optimiser.step()
    return model.eval(), time.perf_counter() - start


@torch.no_grad()
def source_accuracy(model: nn.Module) -> float:
    """Accuracy on the validation images of the source classes."""
    images, labels = source_only(*map(torch.from_numpy, load_shapes("val")))  # (1000, 3, 32, 32), (1000,)
    return (model(images).argmax(1) == labels).float().mean().item()


def write_sums(out: Path, path: Path) -> None:
    """Put path's line in out/SHA256SUMS, replacing an old one and keeping the rest as they are."""
    sums = out / SUMS
    kept = [line for line in (sums.read_text().splitlines() if sums.is_file() else [])
            if line.split()[-1].lstrip("*") != path.name]
    sums.write_text("".join(f"{line}\n" for line in kept) + f"{hashlib.sha256(path.read_bytes()).hexdigest()}"
                    f"  {path.name}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="folder to write into (default: the folder of this script)")
    out = parser.parse_args().out
    torch.set_num_threads(1)  # one thread: the same sums in the same order on every run
    model, seconds = pretrain()
    print(f"pretrained on {', '.join(CLASSES[c] for c in SOURCE_CLASSES)}: {STEPS} Adam steps of {BATCH} "
          f"images in {seconds:.1f} s; source validation accuracy {source_accuracy(model):.3f}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / CHECKPOINT
    torch.save({name: t.detach().clone() for name, t in model.state_dict().items()}, path)
    write_sums(out, path)
    print(f"{path}  {path.stat().st_size:,} bytes")
    print(f"{out / SUMS}")


if __name__ == "__main__":
    main()
