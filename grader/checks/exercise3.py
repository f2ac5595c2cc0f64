"""Exercise 3: a 3-block CNN, judged against references built from the student's own weights."""

from __future__ import annotations

import numpy as np

from . import learning
from ..data import load_shapes
from ..grading import references as ref
from ..grading.compare import close, where_different
from ..errors import CheckFailed, StudentRaised
from ..grading.registry import Detail, check
from ..grading.results import Curves, Table
from ..sandbox.protocol import ModelSpec
from .learning import BUDGET, Learned, trained
from .modules import (device_names, explained, failed_in, feature_maps, layer_crash, network_crash, of_kind,
                      output, plain_container_hint, plain_containers, ran_layers, thinned, traced)

VARIANTS = [  # (changes to the reference, the mistake's diagnosis id, what it means)
    (dict(padding=0), "no_padding",
     "Your block matches a convolution without padding: use Conv2d(..., kernel_size=3, padding=1) so the 3x3 "
     "convolution keeps the map's size and only the pooling halves it."),
    (dict(order="conv relu bn pool"), "bn_after_relu",
     "Your block matches Conv2d -> ReLU -> BatchNorm2d: the order is wrong. Normalise first, then apply ReLU: "
     "Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d."),
    (dict(order="conv pool bn relu"), "pool_before_bn",
     "Your block pools before BatchNorm and ReLU: the order is Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d."),
    (dict(order="conv bn pool"), "no_relu", "Your block matches one without ReLU: add the ReLU after BatchNorm2d."),
    (dict(pool="avg"), "avg_pool",
     "Your block matches average pooling: use max pooling (MaxPool2d(2)), which keeps the strongest response in "
     "each 2x2 window."),
]


def block_numerics(ctx, train: bool) -> None:
    """ConvBlock(3, 8) against Conv -> BN -> ReLU -> MaxPool built from its own weights."""
    mode = "train" if train else "eval"
    block = ctx.new("ConvBlock", 3, 8)
    ctx.probe("prepare", block, ctx.seed, ctx.device, label="ConvBlock(3, 8).to(device)")
    x = ctx.rng.standard_normal((4, 3, 10, 10)).astype(np.float32)  # (N, C_in, H, W)
    with explained(lambda: layer_crash(failed_in(traced(ctx, block, x)), "ConvBlock(3, 8)")):
        layers = ran_layers(ctx.probe("inspect", block, ctx.tensor(x), label="ConvBlock.forward"), "your ConvBlock")
    convs, bns = of_kind(layers, "Conv2d"), of_kind(layers, "BatchNorm2d")
    if len(convs) != 1:
        raise CheckFailed(f"{len(convs)} Conv2d layers ran in your ConvBlock's forward; it has exactly one.",
                          "ConvBlock is Conv2d(3x3, padding=1) -> BatchNorm2d -> ReLU -> MaxPool2d(2).",
                          diagnosis="conv_count")
    if len(bns) != 1:
        raise CheckFailed(f"{len(bns)} BatchNorm2d layers ran in your ConvBlock's forward; it has exactly one.",
                          "Add nn.BatchNorm2d(out_channels) after the convolution: it normalises each channel "
                          "over the batch, which makes the network train fast and stably.",
                          diagnosis="no_batchnorm" if not bns else "bn_count")
    out = output(ctx.probe("forward", block, ctx.tensor(x), train=train, label="ConvBlock.forward"), "ConvBlock")
    want = ref.conv_block(x, convs[0], bns[0], train).numpy()  # (N, 8, 5, 5)
    # Tolerance of float32 work on this device (TF32 convolutions on a GPU): see compare.TOLERANCES.
    if out.shape == want.shape and ctx.matches(out, want, x.dtype):
        return
    for change, mistake, hint in VARIANTS:
        variant = ref.conv_block(x, convs[0], bns[0], train, **change).numpy()
        if out.shape == variant.shape and close(out, variant, x.dtype, ctx.device):
            raise CheckFailed(f"In {mode} mode, ConvBlock(3, 8) on {x.shape} does not match "
                              f"Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d with your own weights.", hint,
                              diagnosis=mistake)
    if out.shape != want.shape:
        raise CheckFailed(f"In {mode} mode, ConvBlock(3, 8) maps {x.shape} to {out.shape}; expected {want.shape}.",
                          padding_hint(layers, x.shape[-1]), diagnosis=resize_diagnosis(layers, x.shape[-1]))
    text, figures = where_different(out[0], want[0], x.dtype, device=ctx.device)
    hint = ("In eval mode BatchNorm must use its running statistics: let nn.BatchNorm2d handle the mode."
            if not train else "Check each step of the block against Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d(2).")
    raise CheckFailed(f"In {mode} mode your ConvBlock's output differs from the reference (first image): {text}",
                      hint, figures, diagnosis="eval_mode_statistics" if not train else "")


def shrunk(layers: list[dict], size: int) -> tuple | None:
    """The first convolution's output shape when it changed the map's side, else None."""
    conv = of_kind(layers, "Conv2d")
    shape = conv[0]["out_shape"] if conv else None
    return shape if shape and len(shape) == 4 and shape[-1] != size else None


def resize_diagnosis(layers: list[dict], size: int) -> str:
    """A block of the wrong output size: no padding when its convolution shrank the map."""
    return "no_padding" if shrunk(layers, size) else "block_output_shape"


def padding_hint(layers: list[dict], size: int) -> str:
    """Name the convolution's output size with the formula, when it shrank the map."""
    conv = of_kind(layers, "Conv2d")
    shape = shrunk(layers, size)
    if shape:
        padding = conv[0]["settings"].get("padding", 0)
        p = padding[-1] if isinstance(padding, tuple) else padding
        p = p if isinstance(p, int) else 0
        return (f"Your convolution turns {size}x{size} into {shape[-2]}x{shape[-1]}: "
                f"{ref.formula(size, 3, 1, p)}. With padding=1 a 3x3 convolution keeps {size}x{size}.")
    return "Conv2d(3x3, padding=1) keeps the size; MaxPool2d(2) halves it."


@check(points=2, title="ConvBlock matches Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d in train mode")
def block_numerics_train(ctx):
    block_numerics(ctx, train=True)


@check(points=2, title="ConvBlock matches the reference in eval mode (running statistics)")
def block_numerics_eval(ctx):
    block_numerics(ctx, train=False)


@check(points=1, title="ConvBlock(3, 16) maps (N, 3, 32, 32) to (N, 16, 16, 16)")
def block_shape(ctx):
    block = ctx.new("ConvBlock", 3, 16)
    ctx.probe("prepare", block, ctx.seed, ctx.device, label="ConvBlock(3, 16).to(device)")
    x = ctx.rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    with explained(lambda: layer_crash(failed_in(traced(ctx, block, x)), "ConvBlock(3, 16)")):
        out = output(ctx.probe("forward", block, ctx.tensor(x), train=True, label="ConvBlock.forward"), "ConvBlock")
    if out.shape != (2, 16, 16, 16):
        layers = ran_layers(ctx.probe("inspect", block, ctx.tensor(x), label="ConvBlock.forward"), "your ConvBlock")
        raise CheckFailed(f"ConvBlock(3, 16) maps (2, 3, 32, 32) to {out.shape}; expected (2, 16, 16, 16).",
                          padding_hint(layers, 32), diagnosis=resize_diagnosis(layers, 32))


# --- ThreeBlockCNN -----------------------------------------------------------------------------
CONFIGS = [  # (constructor keywords, input shape)
    ({}, (2, 3, 32, 32)),
    (dict(num_classes=5, widths=(8, 16, 24)), (2, 3, 32, 32)),
    (dict(num_classes=4, in_channels=1, widths=(4, 8, 16), input_size=28), (2, 1, 28, 28)),
    (dict(num_classes=3, widths=(8, 8, 8), input_size=64), (2, 3, 64, 64)),
    (dict(num_classes=7, widths=(6, 12, 18), input_size=20), (3, 3, 20, 20)),
]


def model(ctx, *, standins: bool = True, **kwargs):
    """ThreeBlockCNN(**kwargs) in the child, on the device. With standins, a ConvBlock that does not halve the map
    (no padding, ...) gets a standard forward built from its own layers: the checks on the whole network judge the
    classifier, the logits and the device, while a block that resizes is block_shape's and block_numerics' mistake."""
    handle = ctx.new("ThreeBlockCNN", **kwargs)
    ctx.probe("prepare", handle, ctx.seed, ctx.device, label=f"ThreeBlockCNN({_args(kwargs)}).to(device)")
    if standins and ctx.probe("standin_blocks", handle, "ConvBlock", label="checking the ConvBlocks' output size"):
        ctx.stood_in = True
    return handle


def stood_in(ctx) -> Detail | None:
    """What a passing check says when standard blocks stood in for the student's."""
    if getattr(ctx, "stood_in", False):
        return Detail("judged with standard blocks (Conv2d(3x3, padding=1) -> BatchNorm2d -> ReLU -> MaxPool2d from "
                      "your own layers) in place of your ConvBlocks, which change the map's size (see block_shape)")
    return None


def _args(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def explain(ctx, handle, x: np.ndarray, kwargs: dict):
    """A forward of the student's ThreeBlockCNN that raises gets a hint naming the mistake, where one is found."""
    return explained(lambda: network_crash(traced(ctx, handle, x, "ConvBlock"), x.shape,
                                           kwargs.get("widths", (32, 64, 128))[-1], f"ThreeBlockCNN({_args(kwargs)})"))


def logits(ctx, kwargs: dict, shape: tuple, train: bool = False) -> np.ndarray:
    handle = model(ctx, **kwargs)
    x = ctx.rng.standard_normal(shape).astype(np.float32)
    with explain(ctx, handle, x, kwargs):
        return output(ctx.probe("forward", handle, ctx.tensor(x), train=train, label="ThreeBlockCNN.forward"),
                      "ThreeBlockCNN")


@check(points=1, title="ThreeBlockCNN holds exactly three ConvBlocks")
def three_blocks(ctx):
    for kwargs in ({}, dict(widths=(4, 8, 16), num_classes=3)):
        handle = model(ctx, standins=False, **kwargs)
        n = ctx.probe("count_instances", handle, "ConvBlock", label="counting ConvBlocks")
        if n != 3:
            hidden = [h for h in plain_containers(ctx, handle) if "ConvBlock" in h[2]]
            raise CheckFailed(f"ThreeBlockCNN({_args(kwargs)}) holds {n} ConvBlock instances nn.Module can see; "
                              "expected three.", plain_container_hint(hidden) if hidden else
                              "Build three ConvBlocks, one per entry of widths: in_channels -> widths[0] -> "
                              "widths[1] -> widths[2], in any container (Sequential, ModuleList, attributes).",
                              diagnosis="plain_list_of_layers" if hidden else "not_three_blocks")


@check(points=2, title="ThreeBlockCNN returns (N, num_classes) logits for the defaults and other configurations")
def logits_shape(ctx):
    for kwargs, shape in CONFIGS:
        out = logits(ctx, kwargs, shape)
        n, classes = shape[0], kwargs.get("num_classes", 10)
        if out.shape != (n, classes):
            raise CheckFailed(f"ThreeBlockCNN({_args(kwargs)}) on input {shape} returns {out.shape}; "
                              f"expected ({n}, {classes}).",
                              "Return one row of num_classes scores per image; flatten the last block's output "
                              "before the classifier (x.flatten(1)) and keep the batch axis.")
    return stood_in(ctx)


@check(points=1, title="ThreeBlockCNN returns logits, not probabilities")
def logits_not_probabilities(ctx):
    out = logits(ctx, {}, (8, 3, 32, 32)).astype(np.float64)
    if np.all(out >= 0) and np.all(out <= 1) and np.allclose(out.sum(axis=1), 1, atol=1e-4):
        raise CheckFailed("Every row of your output is non-negative and sums to 1: those are probabilities.",
                          "Return raw scores (logits). nn.CrossEntropyLoss applies log-softmax itself; a softmax "
                          "in forward squashes the gradients and slows learning.", diagnosis="softmax_output")
    return stood_in(ctx)


@check(points=1, title="a batch of one image works in eval mode")
def batch_of_one(ctx):
    out = logits(ctx, dict(num_classes=6), (1, 3, 32, 32))
    if out.shape != (1, 6):
        raise CheckFailed(f"For a batch of one image, ThreeBlockCNN(num_classes=6) returns {out.shape}; expected (1, 6).",
                          "Keep the batch axis: flatten with x.flatten(1) or x.view(x.size(0), -1), never x.squeeze().",
                          diagnosis="batch_axis_squeezed")
    return stood_in(ctx)


@check(points=2, title="block_shapes reports the shape after each of the three blocks")
def block_shapes(ctx):
    # RGB input only: a first block hard-coded for 3 channels is logits_shape's mistake, not this check's.
    for kwargs, shape in [({}, (2, 3, 32, 32)), (dict(widths=(4, 8, 16), input_size=28), (2, 3, 28, 28))]:
        handle = model(ctx, standins=False, **kwargs)
        x = ctx.rng.standard_normal(shape).astype(np.float32)
        got = ctx.call("block_shapes", handle, ctx.tensor(x))
        # Judged against what the student's own blocks return (as a forward of the model runs them), so a block
        # that resizes the map costs the block checks only; the ideal shapes when no ConvBlock could be seen.
        seen = [b["out_shape"] for b in traced(ctx, handle, x, "ConvBlock")["blocks"]]
        n, side, want = shape[0], shape[-1], []
        for w in kwargs.get("widths", (32, 64, 128)):
            side //= 2
            want.append((n, w, side, side))
        ideal, want = want, seen or want
        rows = list(got) if isinstance(got, (list, tuple)) else []
        got_shapes = [tuple(int(d) for d in s) if isinstance(s, (list, tuple)) and all(
            isinstance(d, (int, np.integer)) for d in s) else s for s in rows]
        if got_shapes != want:
            table = Table("shape after each block", ("block", "yours", "your blocks' outputs"), tuple(
                (str(i + 1), str(got_shapes[i]) if i < len(got_shapes) else "-", str(w)) for i, w in enumerate(want)))
            hint = ("Run x through the three blocks one after another and record x.shape as a tuple after each block "
                    "(the output of a block, not its input).")
            if got_shapes == ideal:
                hint = ("Those are the shapes correct blocks would give, but yours give others (see block_shape): "
                        "run x through your blocks and record what they return.")
            raise CheckFailed(f"block_shapes(ThreeBlockCNN({_args(kwargs)}), x of shape {shape}) returned {got!r:.200}.",
                              hint, (table,))


# --- count_parameters and mlp_baseline -----------------------------------------------------------
COUNT_MODEL = {"kind": "Sequential", "children": [
    {"kind": "Conv2d", "args": [3, 8, 3], "kwargs": {"bias": False}}, {"kind": "BatchNorm2d", "args": [8]},
    {"kind": "ReLU"}, {"kind": "AdaptiveAvgPool2d", "args": [1]}, {"kind": "Flatten"},
    {"kind": "Linear", "args": [8, 16]}, {"kind": "ReLU"}, {"kind": "Linear", "args": [16, 5]}]}


@check(points=2, title="count_parameters counts all parameters, or only the trainable ones")
def count_parameters(ctx):
    from ..sandbox.models import build_model

    for frozen in ([], ["0.", "1."], ["5."]):
        spec = dict(COUNT_MODEL, frozen=frozen)
        local = build_model(spec)
        for trainable_only in (True, False):
            want = sum(p.numel() for p in local.parameters() if p.requires_grad or not trainable_only)
            got = ctx.call("count_parameters", ModelSpec(spec), trainable_only=trainable_only)
            if type(got) is not int and not isinstance(got, np.integer):
                raise CheckFailed(f"count_parameters returned {type(got).__name__} {got!r:.60}; expected an int.",
                                  "Sum p.numel() over model.parameters(); int(...) the result if it is a tensor.",
                                  diagnosis="count_not_int")
            if got != want:
                frozen_text = f" with {', '.join(frozen)} frozen" if frozen else ""
                hint = "Sum p.numel() over model.parameters() (buffers such as running_mean are not parameters)."
                total, mistake = sum(p.numel() for p in local.parameters()), ""
                if trainable_only and got == total:
                    hint, mistake = "With trainable_only=True, count only parameters whose requires_grad is True.", \
                        "counts_frozen"
                raise CheckFailed(f"count_parameters(model{frozen_text}, trainable_only={trainable_only}) returned "
                                  f"{got}; expected {want}.", hint, diagnosis=mistake)


@check(points=2, title="mlp_baseline is Flatten, one Linear+ReLU per hidden width, then Linear to the classes")
def mlp_baseline(ctx):
    for args, shape in [((), (2, 3, 32, 32)), ((4, 768, (64, 32)), (2, 3, 16, 16)), ((3, 48, (20,)), (2, 3, 4, 4))]:
        classes, features, hidden = args or (10, 3072, (512, 256, 128))
        handle = ctx.new("mlp_baseline", *args)
        ctx.probe("prepare", handle, ctx.seed, ctx.device, label="mlp_baseline(...).to(device)")
        x = ctx.rng.standard_normal(shape).astype(np.float32)
        call = f"mlp_baseline({', '.join(map(repr, args))})"
        # A Linear fed whole images says only "mat1 and mat2 shapes cannot be multiplied": name the Flatten.
        with explained(lambda: layer_crash(failed_in(traced(ctx, handle, x)), call, no_flatten="mlp_no_flatten")):
            linears = of_kind(ran_layers(ctx.probe("inspect", handle, ctx.tensor(x), label="mlp forward"),
                                         "mlp_baseline"), "Linear")
        sizes = [(layer["settings"].get("in_features"), layer["settings"].get("out_features")) for layer in linears]
        widths = [features, *hidden, classes]
        want = list(zip(widths[:-1], widths[1:]))
        if sizes != want:
            raise CheckFailed(f"{call} runs Linear layers {sizes}; expected {want}.",
                              "One hidden Linear per entry of `hidden`, in order, then a Linear to num_classes.",
                              diagnosis="mlp_layer_sizes")
        out = output(ctx.probe("forward", handle, ctx.tensor(x), label="mlp forward"), call)
        if not ctx.matches(out, ref.mlp(x, linears).numpy(), x.dtype):
            raise CheckFailed(f"{call} has the right Linear layers but its output differs from "
                              "Flatten -> (Linear -> ReLU) per hidden layer -> Linear.",
                              "A ReLU after every hidden Linear, none after the last one.",
                              diagnosis="mlp_relu_placement")


# --- device and learning -----------------------------------------------------------------------
@check(points=1, title="names no device: runs wherever the caller puts it")
def device_agnostic(ctx):
    found = device_names(ctx.source)
    if found:
        line, what = found[0]
        raise CheckFailed(f"{ctx.place(line).capitalize()} names a device ({what}).",
                          "Let the caller choose the device (model.to(device)); inside the model use x.device or "
                          "a parameter's device, never 'cuda', .cuda() or torch.device(...).",
                          diagnosis="device_named")
    handle = model(ctx)
    x = ctx.rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    with explain(ctx, handle, x, {}):
        out = ctx.probe("forward", handle, ctx.tensor(x), label="ThreeBlockCNN.forward")
    output(out, "ThreeBlockCNN")
    if not str(out.device).startswith(ctx.device):
        raise CheckFailed(f"The model was put on {ctx.device} but returned its output on {out.device}.",
                          "Don't move tensors to a fixed device inside forward.", diagnosis="output_elsewhere")
    # PyTorch's meta device stands in for a GPU on any machine: whatever model.to(...) leaves behind shows there.
    hidden = plain_containers(ctx, handle)
    with explain(ctx, handle, x, {}):
        moved = ctx.probe("elsewhere", handle, ctx.tensor(x), label="ThreeBlockCNN.to('meta') and forward")
    moved = moved if isinstance(moved, dict) else {}
    elsewhere = "another device (PyTorch's 'meta' device, standing in for a GPU)"
    if moved.get("behind") and hidden:
        raise CheckFailed(f"After model.to({elsewhere}), the layers in self.{hidden[0][0]} stayed where they were.",
                          plain_container_hint(hidden), diagnosis="plain_list_of_layers")
    if moved.get("device") != "meta":
        strangers = [str(k) for k in moved.get("strangers") or []]
        raise CheckFailed(f"After model.to({elsewhere}), your forward " + (
                          f"raised {moved['raised']}" if moved.get("raised") else
                          f"returned its output on {moved.get('device')}") + ".",
                          (f"Your forward runs a {strangers[0]} the model does not hold: a layer made in forward is "
                           "created on the CPU, wherever the model is (and the optimizer never sees it). Create "
                           "every layer in __init__. " if strangers else "Something in forward is not where the "
                           "model is: make every layer an attribute (or part of an nn.ModuleList / nn.Sequential). ")
                          + "Create any new tensor in forward with device=x.device.",
                          diagnosis="layer_made_in_forward" if strangers else "tensor_not_on_device")
    return stood_in(ctx)


def pictures(ctx, cnn: Learned, mlp: Learned | None, accuracies: str) -> tuple:
    """The learning curves of both models and the trained CNN's feature maps for one validation image (the
    first), after each block: drawn from what the grader's own probes returned."""
    from ..data import CLASSES, load_shapes

    runs = (("your ThreeBlockCNN", cnn), ("your mlp_baseline", mlp))
    series = tuple((name, *thinned(run.losses)) for name, run in runs if run is not None and run.losses)
    curves = (Curves(f"training loss per step ({BUDGET.batch} images a step, Adam lr {BUDGET.lr:g}, seed {ctx.seed})",
                     "step", "cross-entropy of the batch", series, accuracies),) if series else ()
    images, labels = load_shapes("val")
    try:
        found = ctx.probe("block_maps", cnn.handle, ctx.tensor(images[:1]), "ConvBlock",
                          label="your trained ThreeBlockCNN on one validation image")
    except StudentRaised:  # the verdict is in: a forward that fails on one image only costs the picture
        found = None
    maps = feature_maps(found, "feature maps after each block (first channels, one validation image)",
                        f"A validation image of a {CLASSES[int(labels[0])]} through your trained ThreeBlockCNN: "
                        "each column is a block's output (after its ReLU and pooling), each row one of its channels.")
    return curves + ((maps,) if maps else ())


@check(points=3, title="it learns: a short training run beats a threshold on held-out shapes", timeout=120)
def it_learns(ctx):
    # The whole network, run as it is (no stand-ins): a network that cannot run or train cannot show that it
    # learns, so a mistake that stops it (a classifier sized wrongly, a block that resizes) also costs this check.
    kwargs = dict(num_classes=8, widths=(8, 16, 32))
    run = trained(ctx, lambda: ctx.new("ThreeBlockCNN", **kwargs), "ThreeBlockCNN", BUDGET,
                  explain=lambda handle: explain(ctx, handle, load_shapes("train")[0][:2], kwargs))
    cnn, baseline = run.accuracy, None
    try:  # the same number of steps as the CNN took, scored on the same images: a fair comparison
        baseline = learning.baseline(ctx, run.steps, BUDGET)
        mlp = f"{baseline.accuracy:.2f}"
    except CheckFailed:
        mlp = "-"
    except Exception as e:  # the student's MLP is graded by its own check; here it only sets the scene
        mlp = f"- ({type(e).__name__})"
    budget = f"{run.steps} Adam steps of {BUDGET.batch} images"
    table = Table(f"accuracy on {run.scored_on} after {budget} (seed {ctx.seed})",
                  ("model", "accuracy"), (("your ThreeBlockCNN(widths=(8, 16, 32))", f"{cnn:.2f}"),
                                          ("your mlp_baseline", mlp), ("needed for this check", f"{BUDGET.threshold:.2f}")))
    stopped = (f"; stopped at step {run.steps} of {BUDGET.steps}, past {BUDGET.sure:.2f}"
               if run.steps < BUDGET.steps else "")
    figures = (table, *pictures(ctx, run, baseline, f"accuracy on {run.scored_on} after {run.steps} steps: CNN "
                                f"{cnn:.2f}, MLP {mlp} (this check needs {BUDGET.threshold:.2f} for the CNN{stopped})"))
    if run.steps >= BUDGET.steps and cnn < BUDGET.threshold:
        raise CheckFailed(f"After the grader's training run your CNN reaches accuracy {cnn:.2f} on held-out images; "
                          f"this check needs {BUDGET.threshold:.2f}.",
                          "Check that every layer is created in __init__ (not in forward) so the optimizer sees its "
                          "parameters, and that forward returns logits.", figures)
    return Detail(f"accuracy {cnn:.2f} (CNN) vs {mlp} (MLP) after {run.steps} steps", figures)
