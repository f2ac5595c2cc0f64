"""The lesson of the transfer-learning exercise in numbers: fine-tuning the pretrained backbone
against training the same network from scratch, on a few images of classes the backbone never saw.

Run from the repository root:  python benchmarks/transfer_lesson.py [--seeds 0 1 2 3 4] [--threads 1]
Both runs see the same target_split(seed) images in the same batches for the same number of steps.
Fine-tuning gets a new fc, trains only layer4 and fc, and keeps the frozen BatchNorm layers in eval
mode; from scratch, every parameter trains. Both are scored on all validation images of the targets.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from torch import nn

from grader.backbone import TARGET_CLASSES, SmallResNet, pretrained_backbone, target_split
from grader.data import CLASSES

OPTIMISERS = {
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr),
    "sgdm": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
}


def for_fine_tuning(model: SmallResNet, num_classes: int, trainable: tuple[str, ...] = ("layer4", "fc")) -> SmallResNet:
    """Give model a fresh head and freeze every parameter outside the trainable prefixes."""
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith(trainable)
    return model


def train_mode(model: nn.Module) -> None:
    """Train mode, except BatchNorm layers with nothing to train: their running statistics must not move."""
    model.train()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d) and not any(p.requires_grad for p in module.parameters()):
            module.eval()


def train(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, epochs: int, batch: int, lr: float,
          optimiser: str, seed: int) -> float:
    """Cross-entropy on shuffled batches, the last one short as a DataLoader's; return the wall time in seconds."""
    order = torch.Generator().manual_seed(seed)
    step = OPTIMISERS[optimiser]([p for p in model.parameters() if p.requires_grad], lr)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        train_mode(model)
        for idx in torch.randperm(len(labels), generator=order).split(batch):
            step.zero_grad()
            loss_fn(model(images[idx]), labels[idx]).backward()
            step.step()
    return time.perf_counter() - start


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of images whose highest-scoring class is the label, in eval mode."""
    model.eval()
    return (model(images).argmax(1) == labels).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--per-class", type=int, default=30, help="training images per target class")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--optimiser", choices=sorted(OPTIMISERS), default="adam")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    pretrained = pretrained_backbone()
    k = len(TARGET_CLASSES)
    steps = args.epochs * -(-args.per_class * k // args.batch)  # ceil: the last batch of an epoch is short
    print(f"targets {', '.join(CLASSES[c] for c in TARGET_CLASSES)}: {args.per_class} train images each; "
          f"{args.optimiser} lr {args.lr}, {args.epochs} epochs of batch {args.batch} ({steps} steps), "
          f"{torch.get_num_threads()} thread(s); chance {1 / k:.3f}")
    print(f"{'seed':>4}  {'tuned acc':>9} {'s':>5}  {'scratch acc':>11} {'s':>5}")
    results = {"fine-tuned": [], "from scratch": []}  # name -> [(accuracy, seconds)]
    for seed in args.seeds:
        train_x, train_y, val_x, val_y = map(torch.from_numpy, target_split(args.per_class, seed))
        torch.manual_seed(seed)
        runs = {"fine-tuned": for_fine_tuning(copy.deepcopy(pretrained), k), "from scratch": SmallResNet(num_classes=k)}
        for name, model in runs.items():
            seconds = train(model, train_x, train_y, args.epochs, args.batch, args.lr, args.optimiser, seed)
            results[name].append((accuracy(model, val_x, val_y), seconds))
        (tuned, tuned_s), (fresh, fresh_s) = results["fine-tuned"][-1], results["from scratch"][-1]
        print(f"{seed:>4}  {tuned:9.3f} {tuned_s:5.2f}  {fresh:11.3f} {fresh_s:5.2f}")
    for name, runs in results.items():
        accs, times = [a for a, _ in runs], [s for _, s in runs]
        print(f"{name}: accuracy min {min(accs):.3f} mean {statistics.mean(accs):.3f} max {max(accs):.3f}; "
              f"median {statistics.median(times):.2f} s per run")
    gaps = [t - f for (t, _), (f, _) in zip(results["fine-tuned"], results["from scratch"])]
    print(f"fine-tuned minus from scratch: min {min(gaps):.3f} mean {statistics.mean(gaps):.3f}")


if __name__ == "__main__":
    main()
