"""Exercise 5: transfer learning on the course's pretrained SmallResNet, judged tensor by tensor."""

from __future__ import annotations

import importlib.util
import math

from ..grading.compare import describe
from ..errors import CheckFailed
from ..grading.registry import Detail, check
from ..grading.results import Table
from .transfer import (DEFAULT_TRAINABLE, OTHER_WIDTHS, TUNE_BATCH, TUNE_EPOCHS, TUNE_PER_CLASS, TUNE_THRESHOLD, WIDTHS,
                       accuracy, batches, device_mismatch, drift_bars, head_placement, judge_reported_losses, loss_curves,
                       loss_values, on_device, pretrained, same_bits, scratch, scratch_figures, trainable_flags, tuned,
                       watched)


def as_names(value, what: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise CheckFailed(f"{what} returned {describe(value)}; expected a list of parameter names.",
                          "Return [name for name, p in model.named_parameters() if p.requires_grad].",
                          diagnosis="names_not_a_list")
    return list(value)


# --- replace_head --------------------------------------------------------------------------------
@check(points=2, title="replace_head puts a new Linear(fc.in_features, num_classes) in place and returns the model")
def replace_head_new_linear(ctx):
    models = [("the pretrained backbone", pretrained(ctx), WIDTHS[-1]),
              (f"a backbone of widths {OTHER_WIDTHS}", scratch(ctx, OTHER_WIDTHS), OTHER_WIDTHS[-1])]
    if importlib.util.find_spec("torchvision") is not None:
        models.append(("torchvision's resnet18", ctx.probe("resnet18", store=True, label="torchvision resnet18"), 512))
    for what, model, features in models:
        returned = ctx.new("replace_head", model, 3)
        if not ctx.probe("same_object", returned, model, label="comparing models"):
            raise CheckFailed(f"replace_head on {what} returned a different object than the model it was given.",
                              "Change model.fc in place and `return model`.", diagnosis="head_not_returned")
        fc = ctx.probe("module_info", model, "fc", label="reading model.fc")
        got = (fc or {}).get("settings", {})
        if not fc or fc.get("kind") != "Linear" or (got.get("in_features"), got.get("out_features")) != (features, 3):
            hint = "Create nn.Linear(model.fc.in_features, num_classes) and assign it to model.fc."
            mistake = ""
            if got.get("in_features") == 512 and features != 512:
                hint = ("The head's in_features is hard-coded to 512 (resnet18's value); read it from the model: "
                        "model.fc.in_features.")
                mistake = "hard_coded_512"
            raise CheckFailed(f"After replace_head({what}, 3), model.fc is {fc.get('kind') if fc else None} with "
                              f"in_features={got.get('in_features')}, out_features={got.get('out_features')}; "
                              f"expected Linear({features}, 3).", hint, diagnosis=mistake)


@check(points=1, title="the new head has the old head's dtype")
def replace_head_dtype(ctx):
    model = scratch(ctx, dtype="float64")
    ctx.new("replace_head", model, 4)
    dtype, _ = head_placement(ctx, model)
    if dtype != "float64":
        raise CheckFailed(f"On a float64 backbone the new head's weight is {dtype}; expected float64, like the old "
                          "head.",
                          "nn.Linear makes float32 weights unless told otherwise: pass dtype=old.weight.dtype when "
                          "creating it (or .to(old.weight) afterwards, which also matches the device).",
                          diagnosis="head_dtype")


@check(points=1, title="the new head sits on the old head's device")
def replace_head_device(ctx):
    # PyTorch's "meta" device stands in for a GPU on any machine: a new Linear that is not moved lands on the CPU.
    model = scratch(ctx, device="meta")
    ctx.new("replace_head", model, 4)
    _, device = head_placement(ctx, model)
    if device != "meta":
        raise CheckFailed(f"On a backbone whose weights are on another device than the CPU (PyTorch's 'meta' device, "
                          f"standing in for a GPU), the new head's weight is on {device}; expected meta, the old "
                          "head's device.",
                          "nn.Linear creates its weights on the CPU: pass device=old.weight.device when creating it "
                          "(or .to(old.weight.device) afterwards). On a GPU a head left on the CPU fails at the "
                          "first forward pass.", diagnosis="head_device")


# --- freeze_except -------------------------------------------------------------------------------
def expect_frozen(ctx, model, trainable, returned, call: str) -> None:
    flags = trainable_flags(ctx, model)
    prefixes = (trainable,) if isinstance(trainable, str) else tuple(trainable)
    want = [name for name in flags if name.startswith(prefixes)]
    got = [name for name, flag in flags.items() if flag]
    if got != want:
        extra, missing = sorted(set(got) - set(want)), sorted(set(want) - set(got))
        hint = "requires_grad=False where the name starts with none of the prefixes, requires_grad=True on the rest."
        mistake = ""
        if isinstance(trainable, str) and extra:
            hint = ("A single string is one prefix: iterating 'fc' gives 'f' and 'c'. Wrap a string in a tuple "
                    "before using it.")
            mistake = "string_prefix_iterated"
        elif missing and all(n.startswith("fc") for n in missing):
            hint = "The new head `fc` must stay trainable: it is the only part that knows the new classes."
            mistake = "head_frozen"
        elif missing:
            hint = ("freeze_except must also set requires_grad=True on the parameters it keeps (an earlier call "
                    "may have frozen them).")
            mistake = "kept_not_unfrozen"
        raise CheckFailed(f"After {call}: trainable but should be frozen: {extra[:4] or 'none'}; frozen but should "
                          f"be trainable: {missing[:4] or 'none'}.", hint, diagnosis=mistake)
    names = as_names(returned, call)
    if names != want:
        raise CheckFailed(f"{call} returned {names[:4]}... ({len(names)} names); expected the {len(want)} trainable "
                          "names in named_parameters() order.",
                          "Return [name for name, p in model.named_parameters() if p.requires_grad].",
                          diagnosis="names_returned")


@check(points=2, title="freeze_except trains only layer4 and fc by default, and returns their names")
def freeze_default(ctx):
    model = pretrained(ctx)
    expect_frozen(ctx, model, DEFAULT_TRAINABLE, ctx.call("freeze_except", model), "freeze_except(model)")


@check(points=1, title="freeze_except takes other prefixes, a single string, and unfreezes what it keeps")
def freeze_prefixes(ctx):
    model = pretrained(ctx)
    for trainable in (("layer3", "layer4", "fc"), ["bn1", "layer2"], "fc", ("layer4", "fc")):
        returned = ctx.call("freeze_except", model, trainable)  # the same model: later calls must unfreeze
        expect_frozen(ctx, model, trainable, returned, f"freeze_except(model, {trainable!r})")


# --- make_optimizer ------------------------------------------------------------------------------
@check(points=2, title="make_optimizer's parameter groups hold exactly the trainable parameters")
def optimizer_groups(ctx):
    model = pretrained(ctx)
    ctx.probe("new_head", model, 3, ctx.seed, label="replacing the head")
    ctx.probe("freeze", model, list(DEFAULT_TRAINABLE), label="freezing")
    optimizer = ctx.new("make_optimizer", model, lr=0.01)
    groups = ctx.probe("optimizer_groups", optimizer, model, label="reading the optimizer's parameter groups")
    names = [str(n) for group in groups for n in group] if isinstance(groups, list) else []
    want = [n for n, flag in trainable_flags(ctx, model).items() if flag]
    frozen = sorted(set(names) - set(want) - {"?"})
    if frozen:
        raise CheckFailed(f"The optimizer holds {len(frozen)} frozen parameters, e.g. {frozen[:3]}.",
                          "Give the optimizer only parameters with requires_grad=True: frozen ones would still be "
                          "changed by weight decay or momentum, and cost memory.", diagnosis="optimizer_over_all")
    if "?" in names or len(names) != len(set(names)) or sorted(names) != sorted(want):
        raise CheckFailed(f"The optimizer's groups hold {len(names)} tensors ({len(set(names))} distinct, "
                          f"{names.count('?')} not in the model); expected the model's {len(want)} trainable parameters.",
                          "[p for p in model.parameters() if p.requires_grad], each once.",
                          diagnosis="optimizer_params")


# --- fine_tune -----------------------------------------------------------------------------------
LOSS_BATCH = 4  # fine_tune_losses' batches at lr=0: 30 images make 7 of 4 and one of 2
GPU_CRASH = ("On a CPU-only machine this goes unnoticed; on a GPU it fails at once (\"Expected all tensors to be on "
             "the same device\").")


@check(points=1, title="fine_tune moves the model to `device`")
def fine_tune_moves_model(ctx):
    moves, raised = watched(ctx)
    targets = moves.get("model", []) if isinstance(moves, dict) else []
    if any(on_device(t, ctx.device) for t in targets):
        return
    if raised is not None:  # it failed before moving anything: its error says more than a missing move
        raise raised
    elsewhere = sorted({t for t in targets if t})
    message = (f"fine_tune(..., device={ctx.device!r}) moves the model to {', '.join(elsewhere)}, never to `device`."
               if elsewhere else f"fine_tune(..., device={ctx.device!r}) never moves the model to `device`: it "
               "trains the model wherever it happens to be.")
    raise CheckFailed(message,
                      "Start with model.to(device) (it moves the parameters and buffers in place and returns the "
                      f"model). {GPU_CRASH}", diagnosis="model_not_moved")


@check(points=1, title="fine_tune moves the batches, images and labels, to `device`")
def fine_tune_moves_batches(ctx):
    moves, raised = watched(ctx)
    moves = moves if isinstance(moves, dict) else {}
    if not moves.get("batches"):  # it trained on something else than the loader's batches: nothing to judge
        if raised is not None:
            raise raised
        return
    missing = [what for what in ("images", "labels") if not any(on_device(t, ctx.device) for t in moves.get(what, []))]
    if not missing:
        return
    if raised is not None and not device_mismatch(raised):  # another error: it says more than a missing move
        raise raised
    raise CheckFailed(f"fine_tune(..., device={ctx.device!r}) never moves the {' or the '.join(missing)} of a batch "
                      "to `device`: a DataLoader yields CPU tensors.",
                      "In the loop: images, labels = images.to(device), labels.to(device). The model's weights are "
                      f"on `device`, and so must be what meets them, the labels in the loss included. {GPU_CRASH}",
                      diagnosis="batches_not_moved")


@check(points=2, title="fine_tune leaves frozen parameters bit-identical and changes the head")
def fine_tune_frozen(ctx):
    _, flags, before, after, _, _ = tuned(ctx, epochs=1)
    changed = [n for n, flag in flags.items() if not flag and not same_bits(before.get(n), after.get(n))]
    if changed:
        raise CheckFailed(f"fine_tune changed {len(changed)} frozen parameters, e.g. {changed[:3]}.",
                          "Leave requires_grad as the caller set it, and optimise only the trainable parameters "
                          "(make_optimizer): frozen layers keep their pretrained values.",
                          diagnosis="frozen_changed")
    # Frozen parameters left alone say something only if fine_tune trains at all: a loop that never steps would
    # pass on doing nothing, so this check also needs the head to move (how far it gets is fine_tune_accuracy's).
    if all(same_bits(before.get(n), after.get(n)) for n in ("fc.weight", "fc.bias")):
        raise CheckFailed("After fine_tune the head (fc) is unchanged: nothing was learned.",
                          "Each batch: optimizer.zero_grad(), loss.backward(), optimizer.step().",
                          diagnosis="nothing_learned")


@check(points=2, title="fine_tune leaves the running statistics of frozen BatchNorm layers unchanged")
def fine_tune_bn_stats(ctx):
    model, flags, before, after, _, _ = tuned(ctx, epochs=1)
    # A BatchNorm layer counts as frozen when it was frozen before the call and still is after it: a fine_tune
    # that unfreezes layers is fine_tune_frozen's mistake, and keeping those layers in train mode then follows.
    still = trainable_flags(ctx, model)
    frozen_bn = [k[: -len(".running_mean")] for k in before if k.endswith(".running_mean")
                 and not flags.get(k[: -len(".running_mean")] + ".weight", True)
                 and not still.get(k[: -len(".running_mean")] + ".weight", True)]
    drifted = [p for p in frozen_bn if not all(same_bits(before.get(f"{p}.{s}"), after.get(f"{p}.{s}"))
                                               for s in ("running_mean", "running_var"))]
    if drifted:
        bars = drift_bars(before, after, frozen_bn, "A BatchNorm in training mode moves its running statistics "
                          "towards each batch's, frozen or not: the bars show how far one epoch moved them.")
        raise CheckFailed(f"fine_tune changed the running statistics of {len(drifted)} frozen BatchNorm layers, "
                          f"e.g. {drifted[:3]}.",
                          "model.train() puts every BatchNorm in training mode, and a BatchNorm in training mode "
                          "updates its running mean and variance even when its weights are frozen. After "
                          "model.train(), call .eval() on the BatchNorm layers whose parameters are all frozen.",
                          (bars,), diagnosis="train_over_frozen_bn")
    bars = drift_bars(before, after, frozen_bn, "Every frozen BatchNorm layer kept its running statistics.")
    return Detail("", (bars,))  # the text report says nothing more on a pass; the HTML one draws the bars


@check(points=1, title="fine_tune returns one mean loss per epoch, falling")
def fine_tune_losses(ctx):
    epochs = 3
    _, _, before, after, losses, (train_x, _, _, _) = tuned(ctx, epochs=epochs)
    values = loss_values(losses, epochs, math.ceil(len(train_x) / TUNE_BATCH))
    # With lr=0 nothing changes, so the grader knows every batch's loss: each reported number is compared with
    # the losses of the very batches fine_tune was given (the mean over batches and the per-sample mean are both
    # accepted; a last batch, a total or a mean that runs on across epochs is named). Small batches give each
    # epoch enough of them, of unequal sizes, for those numbers to differ.
    loader = batches(ctx, LOSS_BATCH, record=True)
    still = tuned(ctx, epochs=2, lr=0.0, loader=loader)
    at_rest = loss_values(still.losses, 2, math.ceil(len(train_x) / LOSS_BATCH))
    judge_reported_losses(ctx, at_rest, ctx.probe("batch_losses", still.model, loader,
                                                  label="recomputing the loss of each batch"))
    # A fine_tune that never changes the head cannot lower its loss: fine_tune_frozen names that ("nothing was
    # learned"), so this check does not say it again.
    learned = not all(same_bits(before.get(n), after.get(n)) for n in ("fc.weight", "fc.bias"))
    if learned and not values[-1] < values[0]:
        raise CheckFailed(f"The losses {[round(v, 3) for v in values]} do not fall over {epochs} epochs.",
                          "Check that the optimizer steps on the trainable parameters every batch.",
                          diagnosis="losses_not_falling")


@check(points=3, title="the fine-tuned model clears the target accuracy, shown beside training from scratch",
       timeout=120)
def fine_tune_accuracy(ctx):
    model, _, _, _, losses, (_, _, val_x, val_y) = tuned(ctx, epochs=TUNE_EPOCHS, zero_head=True)
    tuned_acc = accuracy(ctx, model, val_x, val_y)
    runs = [("pretrained, layer4 + fc trained", losses)]
    try:  # the same budget from random weights, everything trained: what pretraining buys. The grader's own
        # reference run (cached per seed): it does not depend on the student, so it is not trained again here.
        fresh = scratch_figures(ctx.seed)
        runs.append(("from scratch, everything trained", fresh["losses"]))
        from_scratch = f"{fresh['accuracy']:.2f}"
    except Exception as e:  # noqa: BLE001 - only sets the scene; the check is about the fine-tuned model
        from_scratch = f"- ({type(e).__name__})"
    table = Table(f"target validation accuracy after {TUNE_EPOCHS} epochs of your fine_tune on {TUNE_PER_CLASS} images "
                  f"per class (seed {ctx.seed})",
                  ("model", "accuracy"), (("pretrained, layer4 + fc trained", f"{tuned_acc:.2f}"),
                                          ("same budget from scratch", from_scratch),
                                          ("needed for this check", f"{TUNE_THRESHOLD:.2f}")))
    figures = (table, *loss_curves(runs, f"validation accuracy after {TUNE_EPOCHS} epochs: fine-tuned {tuned_acc:.2f} "
                                         f"(your fine_tune), from scratch {from_scratch} (the grader's reference "
                                         f"run: Adam, same images and batches); this check needs "
                                         f"{TUNE_THRESHOLD:.2f}"))
    if tuned_acc < TUNE_THRESHOLD:
        raise CheckFailed(f"After fine_tune the pretrained model reaches {tuned_acc:.2f} on the new classes; this "
                          f"check needs {TUNE_THRESHOLD:.2f}.",
                          "Train the head and layer4 with cross-entropy on every batch, and keep frozen BatchNorm "
                          "layers in eval mode.", figures)
    return Detail(f"accuracy {tuned_acc:.2f} fine-tuned vs {from_scratch} from scratch", figures)
