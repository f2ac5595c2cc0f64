"""Exercise 4: a ResNet residual block, judged against a reference built from the student's weights."""

from __future__ import annotations

import numpy as np

from ..grading import references as ref
from ..grading.compare import close, where_different
from ..errors import CheckFailed
from ..grading.registry import check
from ..grading.results import Maps
from .exercise1 import difference_maps  # the same yours / expected / difference pictures
from .modules import output, pairs_of_conv_and_bn, ran_layers

# (in_channels, out_channels or None for the default, stride, in words)
IDENTITY = (8, None, 1, "ResidualBlock(8)")
CASES = [IDENTITY, (8, 16, 1, "ResidualBlock(8, 16)"), (8, 16, 2, "ResidualBlock(8, 16, stride=2)"),
         (8, 8, 2, "ResidualBlock(8, 8, stride=2)")]
PROJECTION_HINT = ("When the stride is not 1 or the channel count changes, x and main(x) differ in shape: the "
                   "shortcut must be a projection, Conv2d(in, out, kernel_size=1, stride=stride, bias=False) -> "
                   "BatchNorm2d(out); otherwise it is the identity.")
VARIANTS = [
    ("relu before add", "Your block applies ReLU before the addition and not after it: the output is "
                        "ReLU(main(x) + shortcut(x)), with main ending in BatchNorm (no ReLU there)."),
    ("no final relu", "Your block matches main(x) + shortcut(x) without the final ReLU: apply ReLU after the addition."),
    ("stride on conv2", "Your block puts the stride on the second convolution: the first 3x3 convolution carries "
                        "the stride (it downsamples), the second keeps stride 1."),
    ("relu on shortcut", "Your block applies a ReLU to the shortcut before adding it: the shortcut is x itself "
                         "(or the projection's BatchNorm output), with no activation."),
    ("no skip", "Your block matches ReLU(main(x)) alone: the skip connection is missing. Add shortcut(x) before "
                "the final ReLU."),
]
# Each variant's diagnosis id, and the path its pictures point to (the caption under them).
DIAGNOSES = {
    "relu before add": ("relu_before_addition", "The main path: it ends in a ReLU before the addition, and none "
                                                "follows the sum (negative values remain)."),
    "no final relu": ("no_final_relu", "After the addition: the final ReLU is missing (negative values remain)."),
    "stride on conv2": ("stride_on_second_conv", "The main path: the stride sits on the second 3x3 convolution "
                                                 "instead of the first."),
    "relu on shortcut": ("relu_on_shortcut", "The shortcut: a ReLU on it before the addition drops its negative "
                                             "values."),
    "no skip": ("no_skip", "The shortcut: missing, so the block returns ReLU(main(x)) alone."),
}


def new_block(ctx, case):
    c_in, c_out, stride, name = case
    args = (c_in,) if c_out is None else (c_in, c_out) if stride == 1 else (c_in, c_out, stride)
    with ctx.hint_on_raise(PROJECTION_HINT, only=("RuntimeError",)):
        handle = ctx.new("ResidualBlock", *args)
        ctx.probe("prepare", handle, ctx.seed, ctx.device, label=f"{name}.to(device)")
    return handle


def missing_projection(ctx, handle, case) -> bool:
    """Whether the case changes the shape and the block has no 1x1 convolution to project x with (seen without a
    forward, which would fail at the addition). Such a case shows only the missing projection, which is
    projection_when_needed's and output_shapes' to judge: the checks of other ideas leave it out."""
    c_in, c_out, stride, _ = case
    if stride == 1 and (c_out or c_in) == c_in:
        return False
    layers = ctx.probe("layers", handle, label=f"reading {case[3]}'s layers")
    return not any(isinstance(layer, dict) and layer.get("kind") == "Conv2d" and
                   tuple(layer.get("settings", {}).get("kernel_size", ())) == (1, 1) for layer in layers or [])


def structure(ctx, handle, case, x) -> tuple[dict, dict, list]:
    """The student's layers, named by role: conv1, conv2 (3x3) and proj (1x1), each with its BatchNorm."""
    name = case[3]
    with ctx.hint_on_raise(PROJECTION_HINT, only=("RuntimeError",)):
        layers = ran_layers(ctx.probe("inspect", handle, ctx.tensor(x), label=f"{name}.forward"), name)
    pairs = pairs_of_conv_and_bn(layers)
    main = [p for p in pairs if tuple(p[0]["settings"].get("kernel_size", ())) == (3, 3)]
    proj = [p for p in pairs if tuple(p[0]["settings"].get("kernel_size", ())) == (1, 1)]
    if len(main) != 2 or len(proj) > 1 or len(main) + len(proj) != len(pairs):
        kinds = [p[0]["settings"].get("kernel_size") for p in pairs]
        raise CheckFailed(f"{name} ran convolutions with kernels {kinds}; expected two 3x3 convolutions on the "
                          "main path and at most one 1x1 projection.",
                          "Main path: Conv3x3(stride) -> BN -> ReLU -> Conv3x3 -> BN; shortcut: identity or "
                          "Conv1x1(stride) -> BN.", diagnosis="block_layout_wrong")
    roles = {"conv1": main[0], "conv2": main[1], **({"proj": proj[0]} if proj else {})}
    missing = [role for role, (_, bn) in roles.items() if bn is None]
    if missing:
        raise CheckFailed(f"In {name}, no BatchNorm2d follows {' and '.join(missing)}.",
                          "Every convolution in the block feeds a BatchNorm2d.", diagnosis="batchnorm_missing")
    return {r: c for r, (c, _) in roles.items()}, {r: b for r, (_, b) in roles.items()}, layers


def numerics(ctx, train: bool) -> None:
    mode = "train" if train else "eval"
    for case in (IDENTITY, CASES[2]):
        c_in, _, stride, name = case
        handle = new_block(ctx, case)
        x = ctx.rng.standard_normal((4, c_in, 9, 9)).astype(np.float32)  # odd size: stride 2 rounds
        if missing_projection(ctx, handle, case):
            continue
        convs, bns, _ = structure(ctx, handle, case, x)
        out = output(ctx.probe("forward", handle, ctx.tensor(x), train=train, label=f"{name}.forward"), name)
        want = ref.residual_block(x, convs, bns, stride, train).numpy()
        # Tolerance of float32 work on this device (TF32 convolutions on a GPU): see compare.TOLERANCES.
        if out.shape == want.shape and ctx.matches(out, want, x.dtype):
            continue
        for variant, hint in VARIANTS:
            other = ref.residual_block(x, convs, bns, stride, train, variant=variant).numpy()
            if out.shape == other.shape and close(out, other, x.dtype, ctx.device):
                diagnosis, path = DIAGNOSES[variant]
                pictures = (block_maps(out, want, name, path),) if out.shape == want.shape else ()
                raise CheckFailed(f"In {mode} mode, {name} does not match the residual block built from your "
                                  "own weights.", hint, pictures, diagnosis=diagnosis)
        if out.shape != want.shape:
            raise CheckFailed(f"{name} maps {x.shape} to {out.shape}; expected {want.shape}.", PROJECTION_HINT)
        text, figures = where_different(out[0, 0], want[0, 0], x.dtype, what="first channel of the first image",
                                        device=ctx.device)
        # The heat map stays first (the text report draws it); the Maps are for the HTML report.
        raise CheckFailed(f"In {mode} mode, {name}'s output differs from ReLU(main(x) + shortcut(x)) built from "
                          f"your weights: {text}", "Compare each step with the diagram in the statement.",
                          (*figures, block_maps(out, want, name, "")))


def block_maps(out: np.ndarray, want: np.ndarray, name: str, path: str) -> Maps:
    """The first image's output against the reference block's, for the channels that differ most."""
    caption = path or "Where your block's output differs from ReLU(main(x) + shortcut(x)) built from your weights."
    return difference_maps(f"{name}: your output against the reference block (first image)", out[0], want[0],
                           caption)


@check(points=2, title="output shapes: identity, more channels, stride 2")
def output_shapes(ctx):
    for case in CASES:
        c_in, c_out, stride, name = case
        x = ctx.rng.standard_normal((2, c_in, 9, 9)).astype(np.float32)
        with ctx.hint_on_raise(PROJECTION_HINT, only=("RuntimeError",)):
            out = output(ctx.probe("forward", new_block(ctx, case), ctx.tensor(x), label=f"{name}.forward"), name)
        side = (9 + 2 - 3) // stride + 1
        want = (2, c_out or c_in, side, side)
        if out.shape != want:
            raise CheckFailed(f"{name} maps {x.shape} to {out.shape}; expected {want}.",
                              "out_channels defaults to in_channels; the first convolution and the projection "
                              "carry the stride, with padding=1 on the 3x3 convolutions.")


@check(points=2, title="matches the reference block in train mode")
def numerics_train(ctx):
    numerics(ctx, train=True)


@check(points=2, title="matches the reference block in eval mode")
def numerics_eval(ctx):
    numerics(ctx, train=False)


@check(points=2, title="with the main path's last BatchNorm zeroed, the block returns ReLU(shortcut(x)) and x gets gradient")
def skip_connection(ctx):
    for case in (IDENTITY, CASES[2]):
        c_in, _, stride, name = case
        handle = new_block(ctx, case)
        x = ctx.rng.standard_normal((2, c_in, 8, 8)).astype(np.float32)
        if missing_projection(ctx, handle, case):
            continue
        convs, bns, _ = structure(ctx, handle, case, x)
        for tensor in ("weight", "bias"):
            ctx.probe("set_tensor", handle, bns["conv2"]["path"], tensor, 0.0, label="zeroing the last BatchNorm")
        out = output(ctx.probe("forward", handle, ctx.tensor(x), label=f"{name}.forward"), name)
        shortcut = ref.t64(x)
        if "proj" in convs:
            shortcut = ref.batch_norm(ref.conv(shortcut, convs["proj"], stride=stride), bns["proj"], False)
        want = np.maximum(shortcut.numpy(), 0)
        # shortcut(x) itself, with no ReLU after the addition, still shows the skip: the ReLU is relu_after_add's.
        if out.shape == want.shape and close(out, shortcut.numpy(), x.dtype, ctx.device):
            want = shortcut.numpy()
        if out.shape != want.shape or not ctx.matches(out, want, x.dtype):
            # Zeros with the main path silenced: nothing passes the skip, so it is missing (not merely wrong).
            missing = out.shape == want.shape and close(out, np.zeros_like(want), x.dtype, ctx.device)
            raise CheckFailed(f"With the main path's last BatchNorm set to zero, {name} should return "
                              "ReLU(shortcut(x)), but it does not.",
                              "The skip connection adds shortcut(x) to the main path's output before the final "
                              "ReLU, so a block whose main path outputs zero passes its input on.",
                              diagnosis="no_skip" if missing else "")
        grad = output(ctx.probe("input_gradient", handle, ctx.tensor(x), label=f"{name} backward"), name)
        if not np.any(grad != 0):
            raise CheckFailed(f"With the main path silenced, no gradient reaches the input of {name}.",
                              "The skip connection is what lets gradient flow straight to x: it must not be "
                              "detached or computed under torch.no_grad().", diagnosis="skip_detached")


@check(points=1, title="a projection exactly when the shape changes, the identity otherwise")
def projection_when_needed(ctx):
    for case in CASES:
        c_in, c_out, stride, name = case
        x = ctx.rng.standard_normal((2, c_in, 8, 8)).astype(np.float32)
        handle = new_block(ctx, case)
        needed = stride != 1 or (c_out or c_in) != c_in
        convs = {} if missing_projection(ctx, handle, case) else structure(ctx, handle, case, x)[0]
        if needed and "proj" not in convs:
            raise CheckFailed(f"{name} has no 1x1 projection on the shortcut, but its output shape differs from x.",
                              PROJECTION_HINT, diagnosis="no_projection")
        if not needed and "proj" in convs:
            raise CheckFailed(f"{name} runs a 1x1 projection although x and the output have the same shape.",
                              "When the stride is 1 and the channels match, the shortcut is the identity: x itself, "
                              "with no convolution (that is what makes very deep networks easy to train).",
                              diagnosis="needless_projection")
        if needed:
            settings = convs["proj"]["settings"]
            got = (settings.get("stride"), settings.get("out_channels"))
            if got != ((stride, stride), c_out or c_in):
                raise CheckFailed(f"{name}'s projection has stride {got[0]} and {got[1]} output channels; expected "
                                  f"stride ({stride}, {stride}) and {c_out or c_in}.", PROJECTION_HINT,
                                  diagnosis="projection_settings_wrong")


@check(points=1, title="no bias in the convolutions that feed BatchNorm")
def no_conv_bias(ctx):
    case, handle = CASES[2], new_block(ctx, CASES[2])
    if missing_projection(ctx, handle, case):  # its forward fails at the addition: judge the identity block
        case, handle = IDENTITY, new_block(ctx, IDENTITY)
    x = ctx.rng.standard_normal((2, 8, 8, 8)).astype(np.float32)
    convs, _, _ = structure(ctx, handle, case, x)
    with_bias = [role for role, layer in convs.items() if layer["settings"].get("bias")]
    if with_bias:
        raise CheckFailed(f"In {case[3]}, {' and '.join(with_bias)} have a bias.",
                          "BatchNorm subtracts the mean right after the convolution, which cancels any bias: "
                          "pass bias=False to each Conv2d that feeds a BatchNorm2d.", diagnosis="conv_bias")


@check(points=1, title="ReLU comes after the addition")
def relu_after_add(ctx):
    for case in (IDENTITY, CASES[2]):
        x = (3 * ctx.rng.standard_normal((4, case[0], 8, 8))).astype(np.float32)
        handle = new_block(ctx, case)
        if missing_projection(ctx, handle, case):
            continue
        out = output(ctx.probe("forward", handle, ctx.tensor(x), label=f"{case[3]}.forward"), case[3])
        if not np.all(np.isfinite(out)):
            raise CheckFailed(f"{case[3]} returns NaN or infinite values.",
                              "With finite inputs every step of the block (conv, BatchNorm, addition, ReLU) is finite.")
        if np.any(out < 0):
            raise CheckFailed(f"{case[3]} returns negative values (down to {float(out.min()):.3g}).",
                              "The block ends with ReLU applied after the addition: "
                              "out = relu(main(x) + shortcut(x)).", diagnosis="negative_output")
