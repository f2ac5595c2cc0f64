"""Margins of exercise 3's training check over seeds: accuracies of the key, the correct and the buggy submissions,
and the CNN-vs-MLP gap, under the grader's budget (default) or the old one (--old: 150 steps, no early stop).

Run from the repository root:  python benchmarks/margins_exercise3.py [--old] [--seeds 20]

Each network is trained in this process with the grader's own loop (grader.sandbox.trainer.Trainer, one
thread, as in the sandbox's child) and scored as `it_learns` scores it (grader.checks.learning). Trusted files
only: the key and tests/submissions/exercise3.
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
from grader.checks.learning import BUDGET, MLP_ARGS, OLD, Budget, early_subset  # noqa: E402
from grader.data import load_shapes  # noqa: E402
from grader.sandbox.trainer import Trainer  # noqa: E402

SUBS = REPO / "tests" / "submissions" / "exercise3"
# Every buggy submission: the few that fail the training check must fail it on every seed, the others (whose
# mistakes other checks name) must clear it, before and after; a crash in training counts as a failure.
TRAINING_BUGS = tuple(sorted(p.stem for p in SUBS.glob("bad_*.py")))
SEEDS = [3003, 7] + list(range(1, 40))


def load(path: Path):
    """The submission as the module `submission` (probes look classes up there)."""
    spec = importlib.util.spec_from_file_location("submission", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    spec.loader.exec_module(module)
    return module


def score(model, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(torch.from_numpy(np.ascontiguousarray(x[i:i + 400]))) for i in range(0, len(x), 400)])
    return float(np.mean(out.argmax(1).numpy() == y))


def run(build, seed: int, budget: Budget, steps: int | None = None) -> tuple[float, int]:
    """it_learns' run: (accuracy, steps taken); None accuracy when training raised."""
    (x, y), (vx, vy) = load_shapes("train"), load_shapes("val")
    torch.manual_seed(seed)
    try:
        model = build()
        trainer = Trainer(model, torch.from_numpy(x), torch.from_numpy(y), budget.batch, budget.lr, seed)
        done = 0
        stops = [s for s in budget.checkpoints() if steps is None or s == steps]
        end = budget.steps if steps is None else steps
        for stop in stops + [end]:
            trainer.steps(stop - done)
            done = stop
            if stop < budget.steps:
                accuracy = score(model, vx[early_subset()], vy[early_subset()])
                if accuracy >= budget.sure or stop == end:
                    return accuracy, stop
        return score(model, vx, vy), end
    except Exception:  # noqa: BLE001 - a network that cannot train fails the check
        return float("nan"), 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", action="store_true", help="the old budget: 150 steps, always to the end")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated file stems to run (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    budget = OLD if args.old else BUDGET
    seeds = SEEDS[:args.seeds]
    files = [REPO / "solutions" / "exercise3.py"] + sorted(SUBS.glob("good_*.py")) + [
        SUBS / f"{n}.py" for n in TRAINING_BUGS]
    if args.only:
        files = [f for f in files if f.stem in args.only.split(",")]
    started = time.perf_counter()
    table: dict[str, list] = {}
    for path in files:
        module = load(path)
        table[path.stem] = [run(lambda: module.ThreeBlockCNN(num_classes=8, widths=(8, 16, 32)), s, budget)
                            for s in seeds]
        print(f"{path.stem:28s} " + " ".join(f"{a:.3f}/{n}" for a, n in table[path.stem]), flush=True)
    key = load(REPO / "solutions" / "exercise3.py")
    gaps = []
    for seed, (cnn, steps) in zip(seeds, table.get("exercise3", [])):
        mlp, _ = run(lambda: key.mlp_baseline(*MLP_ARGS), seed, budget, steps=steps)
        gaps.append(cnn - mlp)
    print(f"budget {budget}, {len(seeds)} seeds, {time.perf_counter() - started:.0f} s")
    passing = [a for name, rows in table.items() if not name.startswith("bad_") for a, _ in rows]
    print(f"lowest passing (key, good_*): {min(passing, default=float('nan')):.3f} vs threshold {budget.threshold}")
    for name in (n for n in TRAINING_BUGS if n in table):
        accs = [a for a, _ in table[name]]
        failing = [a for a in accs if not a >= budget.threshold]
        passing_here = [a for a in accs if a >= budget.threshold]
        print(f"{name:28s} fails on {len(failing):2d}/{len(accs)} seeds; highest failing "
              f"{max(failing, default=float('nan')):.3f}; lowest passing {min(passing_here, default=float('nan')):.3f}")
    if gaps:
        print(f"CNN - MLP gap (key): min {min(gaps):.3f} median {statistics.median(gaps):.3f}")
    steps = [n for rows in table.values() for _, n in rows if n]
    print(f"steps taken: median {statistics.median(steps):.0f} max {max(steps)}")


if __name__ == "__main__":
    main()
