"""Reading what the child says about a student's nn.Module, distrusting every field."""

from __future__ import annotations

import ast
import re
from contextlib import contextmanager

import numpy as np

from ..grading.compare import describe
from ..errors import CheckFailed, StudentRaised
from ..grading.results import Grid, Maps
from ..sandbox.protocol import TensorData

MAP_SIDE, MAP_ROWS, CURVE_POINTS = 32, 4, 200  # how much of a picture the report keeps (see results.Maps)


def output(value, what: str) -> np.ndarray:
    """A forward pass's result as an array, or feedback naming what came back instead."""
    if isinstance(value, TensorData):
        return value.array
    raise CheckFailed(f"{what} returned {describe(value)}; expected a torch tensor.",
                      "forward must return the output tensor itself (not a tuple, list or number).",
                      diagnosis="output_not_tensor")


def ran_layers(info, what: str) -> list[dict]:
    """The leaf layers that ran during one forward, in order, from the child's `inspect` report."""
    try:
        calls = info["calls"]
        layers = []
        for call in calls:
            layer = {"path": str(call["path"]), "kind": str(call["kind"]), "settings": dict(call["settings"]),
                     "tensors": {str(k): v for k, v in dict(call["tensors"]).items() if isinstance(v, TensorData)},
                     "out_shape": tuple(call["out_shape"]) if call.get("out_shape") is not None else None}
            layers.append(layer)
        return layers
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CheckFailed(f"could not read the layers of {what}.",
                          "Build it from standard torch.nn layers (Conv2d, BatchNorm2d, ...).",
                          diagnosis="layers_unreadable") from None


def of_kind(layers: list[dict], kind: str) -> list[dict]:
    return [layer for layer in layers if layer["kind"] == kind]


def pairs_of_conv_and_bn(layers: list[dict]) -> list[tuple[dict, dict | None]]:
    """Each Conv2d with the first BatchNorm2d that ran after it (and was not yet claimed)."""
    result, waiting = [], []
    for layer in layers:
        if layer["kind"] == "Conv2d":
            waiting.append(len(result))
            result.append([layer, None])
        elif layer["kind"] == "BatchNorm2d" and waiting:
            result[waiting.pop(0)][1] = layer
    return [tuple(pair) for pair in result]



# --- what a forward that raised says about the module ----------------------------------------------------
def traced(ctx, handle, x: np.ndarray, class_name: str | None = None) -> dict:
    """The child's trace of one forward that may fail (torch_probes.trace), read defensively: the leaf layers
    entered in order ({kind, path, settings, in_shape}), each call of `class_name` ({in_shape, out_shape}), and
    the error that ended it (None when it ran through)."""
    info = ctx.probe("trace", handle, ctx.tensor(x), class_name, label="tracing the forward pass")
    shape = lambda s: tuple(int(d) for d in s) if isinstance(s, (list, tuple)) else None  # noqa: E731
    try:
        entered = [{"kind": str(e["kind"]), "path": str(e["path"]), "settings": dict(e["settings"]),
                    "in_shape": shape(e["in_shape"])} for e in info["entered"]]
        blocks = [{"in_shape": shape(b["in_shape"]), "out_shape": shape(b["out_shape"])} for b in info["blocks"]]
        raised = info["raised"] if isinstance(info["raised"], dict) else None
    except (KeyError, TypeError, ValueError):
        return {"entered": [], "blocks": [], "raised": None}
    return {"entered": entered, "blocks": blocks, "raised": raised}


def failed_in(trace: dict) -> dict | None:
    """The leaf layer a failed forward raised in: the last one entered (None when the forward ran through)."""
    return trace["entered"][-1] if trace["raised"] and trace["entered"] else None


class Named(str):
    """A hint that also carries the stable id of the mistake it names (CheckResult.diagnosis)."""

    diagnosis: str

    def __new__(cls, text: str, diagnosis: str) -> "Named":
        named = super().__new__(cls, text)
        named.diagnosis = diagnosis
        return named


def layer_crash(layer: dict | None, what: str, no_flatten: str = "no_flatten") -> Named | None:
    """When a layer refused its input: what it received against what it was built for, in the student's numbers
    (images fed to a Linear, a Linear or Conv2d or BatchNorm2d built for another number of features).
    `no_flatten` is the diagnosis of images fed to a Linear (exercise 3's MLP has its own misconception id)."""
    if not layer or not layer["in_shape"]:
        return None
    got, settings, path = layer["in_shape"], layer["settings"], layer["path"]
    if layer["kind"] == "Linear" and len(got) > 2:
        return Named(f"{what}'s first Linear received {got}, not rows of features: nn.Linear works on the last axis "
                     f"only (here {got[-1]} values), so flatten each image first: put nn.Flatten() before the first "
                     "Linear (or x.flatten(1) in forward).", no_flatten)
    expects = settings.get("in_features")
    if layer["kind"] == "Linear" and isinstance(expects, int) and got[-1] != expects:
        return Named(f"{what}'s Linear {path} expects in_features={expects} but received {got[-1]} features {got}.",
                     "linear_in_features")
    built = settings.get("in_channels") if layer["kind"] == "Conv2d" else settings.get("num_features")
    if layer["kind"] in ("Conv2d", "BatchNorm2d") and len(got) == 4 and isinstance(built, int) and got[1] != built:
        role = ("A Conv2d's in_channels are the channels it receives: in_channels for the first block, the previous "
                "block's out_channels after it." if layer["kind"] == "Conv2d" else
                "A BatchNorm2d normalises the convolution's output: BatchNorm2d(out_channels).")
        return Named(f"In {what}, the {layer['kind']} {path} was built for {built} channels but receives {got[1]} "
                     f"{got}. " + role, "conv_in_channels" if layer["kind"] == "Conv2d" else "bn_num_features")
    return None


def network_crash(trace: dict, shape: tuple, last_width: int, what: str) -> Named | None:
    """Name the mistake behind a CNN's forward that raised: a block that resizes the map, images fed to a Linear,
    or a classifier sized for other images, with the student's numbers."""
    resized = [b for b in trace["blocks"] if b["in_shape"] and b["out_shape"] and len(b["out_shape"]) == 4
               and b["out_shape"][-2:] != (b["in_shape"][-2] // 2, b["in_shape"][-1] // 2)]
    if resized:  # only it_learns runs the student's own blocks when they resize
        i, o = resized[0]["in_shape"], resized[0]["out_shape"]
        return Named(f"Your ConvBlock turns a {i[-2]}x{i[-1]} map into {o[-2]}x{o[-1]} instead of halving it (see "
                     "block_shape), so the classifier gets another size than the one it was built for.",
                     "block_resizes")
    layer = failed_in(trace)
    got, expects = (layer or {}).get("in_shape"), (layer or {}).get("settings", {}).get("in_features")
    if not layer or layer["kind"] != "Linear" or not got or len(got) != 2 or not isinstance(expects, int):
        return layer_crash(layer, what)
    size, up = shape[-1], -(-shape[-1] // 8)
    stories = [(ident, text) for match, ident, text in (  # in_features may fit two stories (28 rounded up is 4, as 32)
        (expects == 2048, "classifier_hard_coded",
         "it looks hard-coded for 32x32x3 input and the default widths (128 * 4 * 4 = 2048)"),
        (expects == last_width * 16 != 2048, "classifier_hard_coded",
         f"it looks hard-coded for 32x32 images (widths[-1] * 4 * 4 = {expects})"),
        (expects == last_width * up ** 2, "size_rounded_up",
         f"it rounds the side up (ceil({size} / 8) = {up}), but MaxPool2d(2) rounds down")) if match]
    why = " or ".join(text for _, text in stories)
    why = f"{why[:1].upper()}{why[1:]}. " if why else ""
    return Named(f"Your classifier's first Linear expects {expects} features, but for {shape[-3]}x{size}x{size} "
                 f"images the last block gives {got[-1]}: three MaxPool2d(2) take {size} -> {size // 2} -> "
                 f"{size // 4} -> {size // 8} (each rounds down), so widths[-1] * (input_size // 8) ** 2 = "
                 f"{last_width * (size // 8) ** 2}. {why}Compute in_features from widths and input_size, or use "
                 "global average pooling or nn.LazyLinear.", stories[0][0] if stories else "classifier_in_features")


@contextmanager
def explained(explain):
    """Within this block, a student error that has no hint yet gets explain()'s (called only then: it may probe),
    and the id of the mistake it names as `e.diagnosis` (a Named hint), for the report's diagnosis."""
    try:
        yield
    except StudentRaised as e:
        if not e.info.is_a("NotImplementedError") and not e.hint:
            hint = explain() or ""
            e.hint = str(hint)
            if getattr(hint, "diagnosis", ""):
                e.diagnosis = hint.diagnosis
        raise


def plain_containers(ctx, handle) -> list[tuple[str, str, list[str]]]:
    """(attribute, "list"/"tuple"/"dict", module kinds) for modules a model keeps where nn.Module cannot see them."""
    found = ctx.probe("unregistered", handle, label="looking for layers nn.Module does not see")
    try:
        return [(str(attr), str(holder), [str(k) for k in kinds]) for attr, holder, kinds in found]
    except (TypeError, ValueError):
        return []


def plain_container_hint(hidden: list[tuple[str, str, list[str]]]) -> str:
    attr, holder, kinds = hidden[0]
    wrapper = "nn.ModuleDict" if holder == "dict" else "nn.ModuleList"
    return (f"self.{attr} is a plain Python {holder} holding {len(kinds)} {kinds[0]}s: nn.Module does not look inside "
            f"it, so they are not registered: model.parameters() (the optimizer), model.to(device) and state_dict() "
            f"all miss them. Use {wrapper}(...) or nn.Sequential(...) instead.")


# --- device names in the source ------------------------------------------------------------------------------
DEVICE_NAME = re.compile(r"(cuda|mps)(:\d+)?")


def device_names(source: str) -> list[tuple[int, str]]:
    """Places in the code (not comments or docstrings) that pick a device by name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "cuda":
            found.append((node.lineno, ".cuda()"))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "device" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch":
            found.append((node.lineno, "torch.device(...)"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and DEVICE_NAME.fullmatch(node.value):
            found.append((node.lineno, repr(node.value)))
    return sorted(found)


# --- what the child returned, made into pictures the report draws -------------------------------------------
def small(grid: np.ndarray, side: int = MAP_SIDE) -> Grid:
    """A 2-D map as a grid of at most side x side floats (block means where it is bigger), NaN and inf as 0."""
    grid = np.nan_to_num(np.asarray(grid, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    step = max(1, -(-max(grid.shape) // side))
    h, w = -(-grid.shape[0] // step) * step, -(-grid.shape[1] // step) * step
    padded = np.pad(grid, ((0, h - grid.shape[0]), (0, w - grid.shape[1])), mode="edge")
    grid = padded.reshape(h // step, step, w // step, step).mean(axis=(1, 3))
    return tuple(tuple(round(float(v), 4) for v in row) for row in grid)


def feature_maps(value, title: str, caption: str = "") -> Maps | None:
    """A Maps of the block_maps probe's answer: a column per block, a row per channel (None if it is not
    a list of (C, H, W) tensors, one per block, as the grader's probe returns)."""
    blocks = [v.array for v in value if isinstance(v, TensorData) and v.array.ndim == 3 and v.array.size] \
        if isinstance(value, list) else []
    if not blocks or len(blocks) != len(value):
        return None
    rows = min(MAP_ROWS, *(b.shape[0] for b in blocks))
    return Maps(title, tuple(f"block {i + 1}" for i in range(len(blocks))),
                tuple((f"channel {c + 1}", tuple(small(b[c]) for b in blocks)) for c in range(rows)), caption)


def numbers(value) -> tuple[float, ...]:
    """A list of finite numbers from the child as floats; () when it is anything else."""
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool) for v in value):
        return ()
    values = tuple(float(v) for v in value)
    return values if all(np.isfinite(values)) else ()


def thinned(ys: tuple[float, ...], points: int = CURVE_POINTS) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(x, y) of a curve over steps 1..len(ys), every k-th point kept so at most `points` remain."""
    step = max(1, -(-len(ys) // points))
    xs = tuple(float(i + 1) for i in range(0, len(ys), step))
    return xs, tuple(round(y, 5) for y in ys[::step])
