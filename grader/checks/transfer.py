"""Exercise 5's helpers: backbones built in the child, the grader's run of fine_tune, what it returned and moved."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from ..grading.compare import describe, tolerance
from ..errors import CheckFailed, StudentRaised
from ..grading.results import Bars, Curves
from ..sandbox.protocol import TensorData

WIDTHS, OTHER_WIDTHS = (16, 32, 64, 128), (8, 16, 24, 40)
DEFAULT_TRAINABLE = ("layer4", "fc")
# The budget and bar of `fine_tune_accuracy` (3 new classes, chance 0.33), measured over 20 seeds with
# benchmarks/margins_exercise5.py. Ten images per class make the lesson plain: from random weights the same budget
# reaches 0.31-0.47, fine-tuning the pretrained model 0.75-1.00 with the key. Correct styles (Adam, plain SGD,
# SGD with momentum, per-sample losses, moves written in other ways) cleared 0.73; keeping frozen BatchNorm
# statistics with momentum=0 rather than eval mode, the least stable allowed style, fell to 0.52 once. The check's
# head starts at zero, so a fine_tune that never steps scores exactly chance (a random head scored up to 0.66 on
# pretrained features alone). The bar sits between, with room for a GPU's other numerics.
TUNE_EPOCHS, TUNE_BATCH, TUNE_LR = 8, 16, 3e-3
TUNE_PER_CLASS, VAL_PER_CLASS = 10, 100  # training images per new class; validation images per class
TUNE_THRESHOLD = 0.45


def pretrained(ctx, *, dtype: str = "float32"):
    """The pretrained backbone, built in the child from weights this process read and verified."""
    from ..backbone import SOURCE_CLASSES, pretrained_state

    state = {name: ctx.tensor(t.numpy()) for name, t in pretrained_state().items()}
    return ctx.probe("backbone", list(WIDTHS), len(SOURCE_CLASSES), state, dtype, ctx.device, ctx.seed,
                     store=True, label="loading the pretrained backbone")


def scratch(ctx, widths=WIDTHS, num_classes: int = 5, dtype: str = "float32", device: str | None = None):
    return ctx.probe("backbone", list(widths), num_classes, None, dtype, device or ctx.device, ctx.seed, store=True,
                     label="building a backbone")


def trainable_flags(ctx, model) -> dict[str, bool]:
    info = ctx.probe("param_info", model, label="reading requires_grad")
    try:
        return {str(name): bool(flag) for name, flag in info}
    except (TypeError, ValueError):
        raise CheckFailed("could not read the model's parameters after your call.",
                          diagnosis="parameters_unreadable") from None


def head_placement(ctx, model) -> tuple[str, str]:
    """(dtype, device) of model.fc.weight after the student's replace_head, as torch names them."""
    info = ctx.probe("placement", model, "fc", label="reading model.fc")
    weight = info.get("weight") if isinstance(info, dict) else None
    if not (isinstance(weight, list) and len(weight) == 2):
        raise CheckFailed("After replace_head, model.fc has no weight.",
                          "Assign nn.Linear(model.fc.in_features, num_classes) to model.fc.", diagnosis="head_missing")
    return str(weight[0]), str(weight[1])


def on_device(target, device: str) -> bool:
    """Whether a move's target ("cuda:0", "cpu") is `device`: the same type, and the same index where both name one."""
    if not isinstance(target, str):
        return False
    kind, _, index = target.partition(":")
    want_kind, _, want_index = device.partition(":")
    return kind == want_kind and (not index or not want_index or index == want_index)


def device_mismatch(raised: StudentRaised) -> bool:
    """Whether an error is what a missing move causes on a GPU ("Expected all tensors to be on the same device",
    "Input type (torch.FloatTensor) and weight type (torch.cuda.FloatTensor) should be the same")."""
    message = raised.info.message.lower()
    return raised.info.is_a("RuntimeError") and any(word in message for word in ("device", "cuda", "mps"))


# --- the grader's run of fine_tune --------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def split(seed: int) -> tuple[np.ndarray, ...]:
    """The few-shot target task for a seed, read once per run (arrays made read-only: they are shared)."""
    from ..backbone import target_split

    arrays = target_split(TUNE_PER_CLASS, seed, val_per_class=VAL_PER_CLASS)
    for array in arrays:
        array.flags.writeable = False
    return arrays


class Tuned(NamedTuple):
    """Everything one run of the student's fine_tune showed."""

    model: object  # the Handle of the model in the child
    flags: dict  # requires_grad by parameter name, before the call
    before: dict  # state_dict before and after, as TensorData by name
    after: dict
    losses: object  # what fine_tune returned
    data: tuple  # train_x, train_y, val_x, val_y


def prepared(ctx, zero_head: bool = False):
    """The pretrained backbone with the grader's own new head and freezing, so fine_tune is judged alone."""
    from ..backbone import TARGET_CLASSES

    model = pretrained(ctx)
    ctx.probe("new_head", model, len(TARGET_CLASSES), ctx.seed, zero_head, label="replacing the head")
    ctx.probe("freeze", model, list(DEFAULT_TRAINABLE), label="freezing")
    return model


def batches(ctx, batch_size: int = TUNE_BATCH, record: bool = False):
    """The grader's DataLoader over the target task, in the child: CPU tensors that note where they are sent
    (and, with record=True, are kept for batch_losses)."""
    train_x, train_y, _, _ = split(ctx.seed)
    return ctx.probe("loader", ctx.tensor(train_x), ctx.tensor(train_y), batch_size, ctx.seed, record, store=True,
                     label="making the DataLoader")


def tuned(ctx, epochs: int, model=None, *, lr: float = TUNE_LR, batch_size: int = TUNE_BATCH, loader=None,
          zero_head: bool = False) -> Tuned:
    """Prepare a model with the grader's own code, run the student's fine_tune; return everything seen."""
    model = prepared(ctx, zero_head) if model is None else model
    flags = trainable_flags(ctx, model)
    before = ctx.probe("state", model, label="reading the weights")
    loader = batches(ctx, batch_size) if loader is None else loader
    try:
        losses = ctx.call("fine_tune", model, loader, epochs=epochs, lr=lr, device=ctx.device)
    except StudentRaised as e:
        if device_mismatch(e):
            e.hint = e.hint or ("The model and every batch must be on `device`: model.to(device), and "
                                "images.to(device), labels.to(device) in the loop.")
            e.diagnosis = "not_on_device"  # carried into the check's result as its diagnosis
        raise
    after = ctx.probe("state", model, label="reading the weights")
    return Tuned(model, flags, before, after, losses, split(ctx.seed))


def watched(ctx) -> tuple[dict, StudentRaised | None]:
    """One epoch of the student's fine_tune: where it sent the model and the batches, and what it raised if it did."""
    model, loader = prepared(ctx), batches(ctx)
    ctx.probe("watch_moves", model, label="watching model.to")
    raised = None
    try:
        ctx.call("fine_tune", model, loader, epochs=1, lr=TUNE_LR, device=ctx.device)
    except StudentRaised as e:
        if e.info.is_a("NotImplementedError"):
            raise
        raised = e  # on a GPU a missing move ends in a device mismatch: the moves still say which
    moves = ctx.probe("moves", model, loader, label="reading where fine_tune sent the model and the batches")
    return moves, raised


def scratch_figures(seed: int) -> dict:
    """The grader's reference run from scratch for this seed, fine_tune's data and budget: {"accuracy", "losses"}."""
    from ..backbone import train_from_scratch
    from . import scratch_reference

    wanted = scratch_reference.settings(TUNE_PER_CLASS, VAL_PER_CLASS, TUNE_EPOCHS, TUNE_BATCH, TUNE_LR, WIDTHS)
    return scratch_reference.reference(seed, wanted, lambda: train_from_scratch(
        seed, split(seed), epochs=TUNE_EPOCHS, batch_size=TUNE_BATCH, lr=TUNE_LR, widths=WIDTHS))


def same_bits(a, b) -> bool:
    return isinstance(a, TensorData) and isinstance(b, TensorData) and a.array.shape == b.array.shape \
        and a.array.dtype == b.array.dtype and a.array.tobytes() == b.array.tobytes()


def loss_values(losses, epochs: int, batches: int) -> list[float]:
    """The per-epoch losses as floats, or feedback on their type and count."""
    if not isinstance(losses, (list, tuple)) or not all(isinstance(v, (int, float, np.floating)) or (
            isinstance(v, TensorData) and v.array.size == 1) for v in losses):
        raise CheckFailed(f"fine_tune returned {describe(losses)}; expected a list of {epochs} floats.",
                          "Collect float(loss) per batch and append their mean once per epoch.",
                          diagnosis="losses_not_floats")
    values = [float(v.array.reshape(())) if isinstance(v, TensorData) else float(v) for v in losses]
    if len(values) != epochs:
        hint = ("That is one value per batch: average the batch losses and return one number per epoch."
                if len(values) == epochs * batches else "Return one number per epoch.")
        raise CheckFailed(f"fine_tune(epochs={epochs}) returned {len(values)} losses; expected {epochs}.", hint,
                          diagnosis="loss_per_batch" if len(values) == epochs * batches else "losses_count")
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise CheckFailed(f"fine_tune returned losses {values}: not all finite and non-negative.",
                          diagnosis="losses_not_finite")
    return values


# --- the epoch losses fine_tune reports, against the losses of its own batches at lr=0 ----------------------
# At lr=0 the parameters never change, so every batch's loss is known: the grader recomputes it on the very
# batches fine_tune was given, under each BatchNorm mode a fine_tune may train in (the statement's, all train,
# all eval, as it left the model: which one is fine_tune_bn_stats's business, not this check's).
ACCEPTED = ("mean", "per-sample mean")
MISTAKES = {  # what else a reported number can be: (in words, hint); its diagnosis is in DIAGNOSES
    "last batch": ("the loss of the epoch's last batch",
                   "Keep every batch's loss.item() through the epoch (a list, or a running sum) and report their mean: "
                   "a variable overwritten in the loop keeps only the last batch."),
    "first batch": ("the loss of the epoch's first batch",
                    "Report the mean of all the epoch's batch losses, not the first one."),
    "total": ("the total over the epoch's batches",
              "That is the total over the epoch: divide by the number of batches (or of samples) to report the mean."),
    "per-sample total": ("the total over the epoch's samples",
                         "That is the total over the epoch: divide by the number of batches (or of samples) to report "
                         "the mean."),
    "running mean": ("the mean over every batch since the first epoch",
                     "Start a new list of batch losses at the start of each epoch, so each epoch reports its own "
                     "mean."),
}


DIAGNOSES = {"last batch": "last_batch_loss", "first batch": "first_batch_loss", "total": "total_loss",
             "per-sample total": "total_loss", "running mean": "running_mean_loss"}  # both totals: a sum, not a mean


def epoch_candidates(passes: list, epoch: int) -> dict[str, float]:
    """What the reported loss of `epoch` may be, from the per-sample losses of each batch of each pass."""
    per_batch = [[np.asarray(getattr(b, "array", b), np.float64).ravel() for b in one] for one in passes[:epoch + 1]]
    means = [float(b.mean()) for b in per_batch[epoch]]
    every = np.concatenate(per_batch[epoch])
    found = {"mean": float(np.mean(means)), "per-sample mean": float(every.mean()), "last batch": means[-1],
             "first batch": means[0], "total": float(np.sum(means)), "per-sample total": float(every.sum())}
    if epoch > 0:
        found["running mean"] = float(np.mean([float(b.mean()) for one in per_batch for b in one]))
    return found


def judge_reported_losses(ctx, values: list[float], recomputed) -> None:
    """Each epoch's reported loss at lr=0 must be the mean (over batches or samples) of its own batches' losses."""
    modes = {str(k): v for k, v in recomputed.items() if isinstance(v, list)} if isinstance(recomputed, dict) else {}
    for epoch, value in enumerate(values):
        matches, shown = {}, None
        for mode, passes in modes.items():
            passes = [one for one in passes if len(one) == max(map(len, passes), default=0)]  # a peek is no epoch
            if len(passes) != len(values) or not passes[0]:  # it went over the loader another number of times
                continue
            candidates = epoch_candidates(passes, epoch)
            shown = shown or (mode == "frozen BatchNorm in eval mode" and candidates)
            for name, v in candidates.items():
                if abs(value - v) <= tolerance(np.float32, abs(v), ctx.device):
                    matches.setdefault(name, v)
        if not modes or any(name in matches for name in ACCEPTED) or not shown:
            continue  # nothing to compare with (no pass per epoch): the count and the falling losses still judge
        n = max(map(len, modes["frozen BatchNorm in eval mode"]))
        said = (f"With nothing learned (lr=0) the grader knows the loss of each of the {n} batches your fine_tune got "
                f"in epoch {epoch + 1}: their mean is {shown['mean']:.4g} (per sample {shown['per-sample mean']:.4g})")
        for name, (words, hint) in MISTAKES.items():
            if name in matches:
                raise CheckFailed(f"{said}; you reported {value:.4g}, {words}.", hint, diagnosis=DIAGNOSES[name])
        raise CheckFailed(f"{said}; you reported {value:.4g}.",
                          "Report each epoch's mean cross-entropy: F.cross_entropy(model(images), labels) per batch, "
                          "loss.item() collected over the epoch, then averaged.", diagnosis="loss_not_epoch_mean")


def accuracy(ctx, model, val_x, val_y) -> float:
    scores = ctx.probe("predict", model, ctx.tensor(val_x), label="the fine-tuned model on validation images")
    if not isinstance(scores, TensorData) or scores.array.shape != (len(val_y), len(set(val_y.tolist()))):
        raise CheckFailed(f"The fine-tuned model returned {describe(scores)} for {len(val_y)} validation images.",
                          diagnosis="predictions_shape")
    return float(np.mean(np.argmax(scores.array, axis=1) == val_y))


# --- pictures: what the grader measured, for the HTML report ------------------------------------------------------
def reported_losses(losses) -> tuple[float, ...]:
    """The per-epoch losses fine_tune returned, as floats; () when they are not a list of finite numbers."""
    try:
        values = tuple(float(v.array.reshape(())) if isinstance(v, TensorData) else float(v) for v in losses)
    except (TypeError, ValueError, AttributeError):
        return ()
    return values if values and all(math.isfinite(v) for v in values) else ()


def loss_curves(runs: list[tuple[str, object]], caption: str) -> tuple[Curves, ...]:
    """Each run's per-epoch losses, as its training loop reported them, on one chart (none when none reported any)."""
    series = []
    for label, losses in runs:
        values = tuple(round(v, 5) for v in reported_losses(losses)[:200])
        if values:
            series.append((label, tuple(float(e + 1) for e in range(len(values))), values))
    return (Curves("loss per epoch: fine-tuned vs from scratch", "epoch",
                   "mean training loss per epoch", tuple(series), caption),) if series else ()


def statistics_drift(before: dict, after: dict, layers: list[str]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """How far each BatchNorm layer's running statistics moved: (Σ|Δ running_mean| + Σ|Δ running_var|) over
    (Σ|running_mean| + Σ|running_var|) before; layers whose statistics cannot be read are left out."""
    labels, values = [], []
    for layer in layers:
        pairs = [(before.get(f"{layer}.{s}"), after.get(f"{layer}.{s}")) for s in ("running_mean", "running_var")]
        if not all(isinstance(a, TensorData) and isinstance(b, TensorData) and a.array.shape == b.array.shape
                   for a, b in pairs):
            continue
        moved = sum(float(np.abs(b.array.astype(np.float64) - a.array.astype(np.float64)).sum()) for a, b in pairs)
        size = sum(float(np.abs(a.array.astype(np.float64)).sum()) for a, _ in pairs)
        drift = moved / size if size > 0 else moved
        labels.append(layer)
        values.append(round(drift, 6) if math.isfinite(drift) else 0.0)
    return tuple(labels), tuple(values)


def drift_bars(before: dict, after: dict, layers: list[str], caption: str) -> Bars:
    """One bar per frozen BatchNorm layer: how far fine_tune moved its running statistics (0 when untouched)."""
    labels, values = statistics_drift(before, after, layers)
    return Bars("running statistics of the frozen BatchNorm layers: change during one epoch of fine_tune", labels,
                (("relative change of running_mean and running_var", values),), "Σ|change| / Σ|before|", caption)
