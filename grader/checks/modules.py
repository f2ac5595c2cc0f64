"""Reading what the child says about a student's nn.Module, distrusting every field."""

from __future__ import annotations

import ast
import re
from contextlib import contextmanager

import numpy as np

from ..grading.compare import describe
from ..errors import CheckFailed, StudentRaised
from ..sandbox.protocol import TensorData


def output(value, what: str) -> np.ndarray:
    """A forward pass's result as an array, or feedback naming what came back instead."""
    if isinstance(value, TensorData):
        return value.array
    raise CheckFailed(f"{what} returned {describe(value)}; expected a torch tensor.",
                      "forward must return the output tensor itself (not a tuple, list or number).")


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
                          "Build it from standard torch.nn layers (Conv2d, BatchNorm2d, ...).") from None


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


def layer_crash(layer: dict | None, what: str) -> str | None:
    """When a layer refused its input: what it received against what it was built for, in the student's numbers
    (images fed to a Linear, a Linear or Conv2d or BatchNorm2d built for another number of features)."""
    if not layer or not layer["in_shape"]:
        return None
    got, settings, path = layer["in_shape"], layer["settings"], layer["path"]
    if layer["kind"] == "Linear" and len(got) > 2:
        return (f"{what}'s first Linear received {got}, not rows of features: nn.Linear works on the last axis "
                f"only (here {got[-1]} values), so flatten each image first: put nn.Flatten() before the first Linear "
                "(or x.flatten(1) in forward).")
    expects = settings.get("in_features")
    if layer["kind"] == "Linear" and isinstance(expects, int) and got[-1] != expects:
        return f"{what}'s Linear {path} expects in_features={expects} but received {got[-1]} features {got}."
    built = settings.get("in_channels") if layer["kind"] == "Conv2d" else settings.get("num_features")
    if layer["kind"] in ("Conv2d", "BatchNorm2d") and len(got) == 4 and isinstance(built, int) and got[1] != built:
        role = ("A Conv2d's in_channels are the channels it receives: in_channels for the first block, the previous "
                "block's out_channels after it." if layer["kind"] == "Conv2d" else
                "A BatchNorm2d normalises the convolution's output: BatchNorm2d(out_channels).")
        return (f"In {what}, the {layer['kind']} {path} was built for {built} channels but receives {got[1]} {got}. "
                + role)
    return None


def network_crash(trace: dict, shape: tuple, last_width: int, what: str) -> str | None:
    """Name the mistake behind a CNN's forward that raised: a block that resizes the map, images fed to a Linear,
    or a classifier sized for other images, with the student's numbers."""
    resized = [b for b in trace["blocks"] if b["in_shape"] and b["out_shape"] and len(b["out_shape"]) == 4
               and b["out_shape"][-2:] != (b["in_shape"][-2] // 2, b["in_shape"][-1] // 2)]
    if resized:  # only it_learns runs the student's own blocks when they resize
        i, o = resized[0]["in_shape"], resized[0]["out_shape"]
        return (f"Your ConvBlock turns a {i[-2]}x{i[-1]} map into {o[-2]}x{o[-1]} instead of halving it (see "
                "block_shape), so the classifier gets another size than the one it was built for.")
    layer = failed_in(trace)
    got, expects = (layer or {}).get("in_shape"), (layer or {}).get("settings", {}).get("in_features")
    if not layer or layer["kind"] != "Linear" or not got or len(got) != 2 or not isinstance(expects, int):
        return layer_crash(layer, what)
    size, up = shape[-1], -(-shape[-1] // 8)
    why = " or ".join(text for match, text in (  # in_features alone may fit two stories (28 rounded up is 4, as 32)
        (expects == 2048, "it looks hard-coded for 32x32x3 input and the default widths (128 * 4 * 4 = 2048)"),
        (expects == last_width * 16 != 2048, f"it looks hard-coded for 32x32 images (widths[-1] * 4 * 4 = {expects})"),
        (expects == last_width * up ** 2, f"it rounds the side up (ceil({size} / 8) = {up}), but MaxPool2d(2) rounds "
                                          "down")) if match)
    why = f"{why[:1].upper()}{why[1:]}. " if why else ""
    return (f"Your classifier's first Linear expects {expects} features, but for {shape[-3]}x{size}x{size} images "
            f"the last block gives {got[-1]}: three MaxPool2d(2) take {size} -> {size // 2} -> {size // 4} -> "
            f"{size // 8} (each rounds down), so widths[-1] * (input_size // 8) ** 2 = {last_width * (size // 8) ** 2}."
            f" {why}Compute in_features from widths and input_size, or use global average pooling or nn.LazyLinear.")


@contextmanager
def explained(explain):
    """Within this block, a student error that has no hint yet gets explain()'s (called only then: it may probe)."""
    try:
        yield
    except StudentRaised as e:
        if not e.info.is_a("NotImplementedError") and not e.hint:
            e.hint = explain() or ""
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
