"""Exercise 5's training margins over many seeds: how far the keys and correct submissions clear the
accuracy bar of `fine_tune_accuracy`, how far the buggy ones stay below it, and how clearly fine-tuning
beats training from scratch.

Run from the repository root:  python benchmarks/margins_exercise5.py [--seeds 20] [--old]

Each submission's fine_tune runs in this process on exactly what the check gives it (the grader's
pretrained backbone, head, freezing and DataLoader for the seed, from grader/sandbox/transfer_probes.py),
one torch thread like the sandbox's child; accuracy is the check's, on the check's validation images.
"From scratch" is what the report shows beside it: the grader's reference run (transfer.scratch_figures), or with
--old the key's fine_tune on a fresh backbone, as the grader ran it before the reference existed.
--old also takes the former budget and head (8 epochs, 30 images per class, all validation images, a random head).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader import backbone  # noqa: E402
from grader.checks import transfer  # noqa: E402
from grader.sandbox import transfer_probes as tp  # noqa: E402
from grader.sandbox.torch_probes import predict  # noqa: E402

SUBMISSIONS = REPO / "tests" / "submissions" / "exercise5"
PASSING = ("bad_bn_drift", "bad_unfreezes_in_fine_tune")  # bugs the accuracy check must not catch
OLD = False
FAILING = ("bad_no_step", "untouched")  # a fine_tune that never steps leaves the untrained head: it must fail


def load(path: Path):
    """A submission as a module (a benchmark may import solutions/; the grader never does)."""
    spec = importlib.util.spec_from_file_location(f"sub_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def split(seed: int, old: bool):
    """The check's data for a seed: the grader's own split, or the former one with --old."""
    if old:
        return backbone.target_split(30, seed)
    return transfer.split(seed)


def fine_tuned(module, seed: int, data, epochs: int, batch: int, lr: float) -> float:
    """What fine_tune_accuracy measures: the student's fine_tune on the grader's prepared model and loader
    (module None: no fine_tune at all, the pretrained backbone with the grader's untrained head)."""
    train_x, train_y, val_x, val_y = data
    state = backbone.pretrained_state()
    model = tp.backbone(list(transfer.WIDTHS), len(backbone.SOURCE_CLASSES), state, "float32", "cpu", seed)
    tp.new_head(model, len(backbone.TARGET_CLASSES), seed, zero=not OLD)  # the check's head (--old: the former one)
    tp.freeze(model, list(transfer.DEFAULT_TRAINABLE))
    loader = tp.loader(torch.from_numpy(np.array(train_x)), torch.from_numpy(np.array(train_y)), batch, seed)
    if module is not None:
        module.fine_tune(model, loader, epochs=epochs, lr=lr, device="cpu")
    scores = predict(model, torch.from_numpy(np.array(val_x))).numpy()
    return float(np.mean(scores.argmax(1) == val_y))


def from_scratch(key, seed: int, data, epochs: int, batch: int, lr: float, old: bool) -> float:
    """The from-scratch figure the report shows for this seed."""
    train_x, train_y, val_x, val_y = data
    if not old:
        return transfer.scratch_figures(seed)["accuracy"]  # what the report shows (cached per seed)
    model = tp.backbone(list(transfer.WIDTHS), len(backbone.TARGET_CLASSES), None, "float32", "cpu", seed)
    loader = tp.loader(torch.from_numpy(np.array(train_x)), torch.from_numpy(np.array(train_y)), batch, seed)
    key.fine_tune(model, loader, epochs=epochs, lr=lr, device="cpu")
    scores = predict(model, torch.from_numpy(np.array(val_x))).numpy()
    return float(np.mean(scores.argmax(1) == val_y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds, from the exercise's default seed on")
    parser.add_argument("--first", type=int, default=5005, help="the first seed (exercise 5's default: 5005)")
    parser.add_argument("--old", action="store_true", help="the former budget: 8 epochs, 30 images per class")
    parser.add_argument("--per-class", type=int, default=transfer.TUNE_PER_CLASS,
                        help=f"training images per new class (default: the grader's {transfer.TUNE_PER_CLASS})")
    args = parser.parse_args()
    global OLD
    OLD = args.old
    transfer.TUNE_PER_CLASS = args.per_class  # to try another budget: split() and scratch_figures() read it
    transfer.split.cache_clear()
    torch.set_num_threads(1)
    epochs = 8 if args.old else transfer.TUNE_EPOCHS
    batch, lr, bar = transfer.TUNE_BATCH, transfer.TUNE_LR, transfer.TUNE_THRESHOLD
    key = load(REPO / "solutions" / "exercise5.py")
    subs = {"key": key} | {p.stem: load(p) for p in sorted(SUBMISSIONS.glob("good_*.py"))}
    subs |= {name: load(SUBMISSIONS / f"{name}.py") for name in PASSING + FAILING if name != "untouched"}
    subs["untouched"] = None  # the grader's prepared model as it is: what a head that never learns scores
    must_pass = [n for n in subs if n not in FAILING]
    seeds = list(range(args.first, args.first + args.seeds))
    print(f"{'old' if args.old else 'new'} settings: {epochs} epochs, batch {batch}, lr {lr}, threshold {bar}; "
          f"seeds {seeds[0]}..{seeds[-1]}; 1 torch thread")
    print(f"{'seed':>5} {'train':>5} {'val':>4} " + " ".join(f"{n[:12]:>12}" for n in subs) + f" {'scratch':>8}")
    table = {n: [] for n in subs}
    scratch, started = [], time.perf_counter()
    for seed in seeds:
        data = split(seed, args.old)
        for name, module in subs.items():
            table[name].append(fine_tuned(module, seed, data, epochs, batch, lr))
        scratch.append(from_scratch(key, seed, data, epochs, batch, lr, args.old))
        print(f"{seed:>5} {len(data[1]):>5} {len(data[3]):>4} " + " ".join(f"{table[n][-1]:12.3f}" for n in subs)
              + f" {scratch[-1]:8.3f}", flush=True)
    lowest = min((min(table[n]), n) for n in must_pass)
    highest = max((max(table[n]), n) for n in FAILING)
    gaps = [t - s for t, s in zip(table["key"], scratch)]
    good_gaps = [min(table[n][i] for n in must_pass) - scratch[i] for i in range(len(seeds))]
    print(f"\nlowest passing accuracy {lowest[0]:.3f} ({lowest[1]}) vs threshold {bar} (margin {lowest[0] - bar:+.3f})")
    print(f"highest failing accuracy {highest[0]:.3f} ({highest[1]}) vs threshold {bar} (margin {bar - highest[0]:+.3f})")
    print(f"from scratch: min {min(scratch):.3f} median {statistics.median(scratch):.3f} max {max(scratch):.3f}")
    print(f"key fine-tuned minus from scratch: min {min(gaps):.3f} median {statistics.median(gaps):.3f}")
    print(f"lowest passing submission minus from scratch: min {min(good_gaps):.3f} "
          f"median {statistics.median(good_gaps):.3f}")
    verdicts = all(min(table[n]) >= bar for n in must_pass) and all(max(table[n]) < bar for n in FAILING)
    print(f"verdicts hold on every seed: {verdicts}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
