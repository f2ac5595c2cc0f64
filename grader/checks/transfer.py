"""Exercise 5's helpers: backbones built in the child, the grader's run of fine_tune, what it returned and moved."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from ..compare import describe
from ..errors import CheckFailed, StudentRaised
from ..sandbox.protocol import TensorData

WIDTHS, OTHER_WIDTHS = (16, 32, 64, 128), (8, 16, 24, 40)
DEFAULT_TRAINABLE = ("layer4", "fc")
# The budget and bar of `fine_tune_accuracy` (3 new classes, chance 0.33). At lr 3e-3 student-style loops
# with Adam, plain SGD and SGD with momentum all reached at least 0.92 over 30 seeds (at 1e-3 plain SGD fell
# to 0.67); keeping BatchNorm statistics with momentum=0 rather than eval mode is the least stable allowed
# style. A loop that never steps stays at chance. The bar leaves room for all of them, and for a GPU, where
# TF32 convolutions and another dropout stream change the run but not how far it gets.
TUNE_EPOCHS, TUNE_BATCH, TUNE_LR = 8, 16, 3e-3
TUNE_THRESHOLD = 0.6


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
        raise CheckFailed("could not read the model's parameters after your call.") from None


def head_placement(ctx, model) -> tuple[str, str]:
    """(dtype, device) of model.fc.weight after the student's replace_head, as torch names them."""
    info = ctx.probe("placement", model, "fc", label="reading model.fc")
    weight = info.get("weight") if isinstance(info, dict) else None
    if not (isinstance(weight, list) and len(weight) == 2):
        raise CheckFailed("After replace_head, model.fc has no weight.",
                          "Assign nn.Linear(model.fc.in_features, num_classes) to model.fc.")
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

    arrays = target_split(seed=seed)
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


def prepared(ctx):
    """The pretrained backbone with the grader's own new head and freezing, so fine_tune is judged alone."""
    from ..backbone import TARGET_CLASSES

    model = pretrained(ctx)
    ctx.probe("new_head", model, len(TARGET_CLASSES), ctx.seed, label="replacing the head")
    ctx.probe("freeze", model, list(DEFAULT_TRAINABLE), label="freezing")
    return model


def batches(ctx, batch_size: int = TUNE_BATCH):
    """The grader's DataLoader over the target task, in the child: CPU tensors that note where they are sent."""
    train_x, train_y, _, _ = split(ctx.seed)
    return ctx.probe("loader", ctx.tensor(train_x), ctx.tensor(train_y), batch_size, ctx.seed, store=True,
                     label="making the DataLoader")


def tuned(ctx, epochs: int, model=None, *, lr: float = TUNE_LR, batch_size: int = TUNE_BATCH) -> Tuned:
    """Prepare a model with the grader's own code, run the student's fine_tune; return everything seen."""
    model = prepared(ctx) if model is None else model
    flags = trainable_flags(ctx, model)
    before = ctx.probe("state", model, label="reading the weights")
    try:
        losses = ctx.call("fine_tune", model, batches(ctx, batch_size), epochs=epochs, lr=lr, device=ctx.device)
    except StudentRaised as e:
        if device_mismatch(e):
            e.hint = e.hint or ("The model and every batch must be on `device`: model.to(device), and "
                                "images.to(device), labels.to(device) in the loop.")
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


def same_bits(a, b) -> bool:
    return isinstance(a, TensorData) and isinstance(b, TensorData) and a.array.shape == b.array.shape \
        and a.array.dtype == b.array.dtype and a.array.tobytes() == b.array.tobytes()


def loss_values(losses, epochs: int, batches: int) -> list[float]:
    """The per-epoch losses as floats, or feedback on their type and count."""
    if not isinstance(losses, (list, tuple)) or not all(isinstance(v, (int, float, np.floating)) or (
            isinstance(v, TensorData) and v.array.size == 1) for v in losses):
        raise CheckFailed(f"fine_tune returned {describe(losses)}; expected a list of {epochs} floats.",
                          "Collect float(loss) per batch and append their mean once per epoch.")
    values = [float(v.array.reshape(())) if isinstance(v, TensorData) else float(v) for v in losses]
    if len(values) != epochs:
        hint = ("That is one value per batch: average the batch losses and return one number per epoch."
                if len(values) == epochs * batches else "Return one number per epoch.")
        raise CheckFailed(f"fine_tune(epochs={epochs}) returned {len(values)} losses; expected {epochs}.", hint)
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise CheckFailed(f"fine_tune returned losses {values}: not all finite and non-negative.")
    return values


def accuracy(ctx, model, val_x, val_y) -> float:
    scores = ctx.probe("predict", model, ctx.tensor(val_x), label="the fine-tuned model on validation images")
    if not isinstance(scores, TensorData) or scores.array.shape != (len(val_y), len(set(val_y.tolist()))):
        raise CheckFailed(f"The fine-tuned model returned {describe(scores)} for {len(val_y)} validation images.")
    return float(np.mean(np.argmax(scores.array, axis=1) == val_y))
