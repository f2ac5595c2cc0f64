"""The lesson of exercise 3 in numbers: a small CNN against an MLP after the same short training.

Run from the repository root:  python benchmarks/shapes_lesson.py [--seeds 0 1 2 3 4] [--threads 2]
Both train on the shapes train split (Adam, 150 steps of 64 images, i.e. two epochs) and are
scored on the val split; the seed fixes the initial weights and the batch order.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from grader.data import CLASSES, load_shapes


def cnn() -> nn.Module:
    """Three blocks Conv3x3 -> BN -> ReLU -> MaxPool2 of widths 8, 16, 32, then one Linear."""
    layers, width = [], 3
    for out in (8, 16, 32):
        layers += [nn.Conv2d(width, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
        width = out
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(32 * 4 * 4, len(CLASSES)))  # 32 -> 16 -> 8 -> 4


def mlp() -> nn.Module:
    """Raw pixels through three hidden layers 512, 256, 128."""
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, len(CLASSES)))


def train(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, lr: float, steps: int, batch: int,
          seed: int) -> float:
    """Adam on shuffled batches (a new order every epoch); return the wall time in seconds."""
    order = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    perm, at = torch.randperm(len(labels), generator=order), 0
    for _ in range(steps):
        if at + batch > len(labels):
            perm, at = torch.randperm(len(labels), generator=order), 0
        idx = perm[at:at + batch]
        at += batch
        optimiser.zero_grad()
        loss_fn(model(images[idx]), labels[idx]).backward()
        optimiser.step()
    return time.perf_counter() - start


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of images whose highest-scoring class is the label, in eval mode (BN uses running stats)."""
    model.eval()
    return (model(images).argmax(1) == labels).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5, 6, 7])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2, as a grader)")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--mlp-lr", type=float, default=1e-3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train_x, train_y = map(torch.from_numpy, load_shapes("train"))  # (4800, 3, 32, 32), (4800,)
    val_x, val_y = map(torch.from_numpy, load_shapes("val"))  # (1600, 3, 32, 32), (1600,)
    models = {"cnn": (cnn, 1e-3), "mlp": (mlp, args.mlp_lr)}
    print(f"{args.steps} steps, batch {args.batch}, {torch.get_num_threads()} threads; "
          f"train {len(train_y)}, val {len(val_y)}, chance {1 / len(CLASSES):.3f}")
    print(f"{'seed':>4}  {'cnn acc':>8} {'cnn s':>6}  {'mlp acc':>8} {'mlp s':>6}")
    results = {name: [] for name in models}  # name -> [(accuracy, seconds)]
    for seed in args.seeds:
        row = []
        for name, (make, lr) in models.items():
            torch.manual_seed(seed)
            model = make()
            seconds = train(model, train_x, train_y, lr, args.steps, args.batch, seed)
            results[name].append((accuracy(model, val_x, val_y), seconds))
            row.append(f"{results[name][-1][0]:8.3f} {seconds:6.2f}")
        print(f"{seed:>4}  " + "  ".join(row))
    for name, runs in results.items():
        accs, times = [a for a, _ in runs], [s for _, s in runs]
        print(f"{name}: accuracy min {min(accs):.3f} mean {statistics.mean(accs):.3f} max {max(accs):.3f}; "
              f"median {statistics.median(times):.2f} s per {args.steps} steps")


if __name__ == "__main__":
    main()
