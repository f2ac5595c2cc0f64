"""Reading what the child says about a student's nn.Module, distrusting every field."""

from __future__ import annotations

import numpy as np

from ..compare import describe
from ..errors import CheckFailed
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

