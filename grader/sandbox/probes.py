"""Trusted code the child runs for the grader: its table of probes, and turning values into objects and back.

Runs inside the child next to student code, so nothing here decides a verdict: it only turns
descriptions into objects and objects into plain data.
"""

from __future__ import annotations

import numpy as np

from .models import build_model
from .protocol import ModelSpec, Opaque, TensorData

def all_probes() -> dict:
    """Every probe by name: the plain ones here, plus the module-probing ones when torch is imported."""
    table = {"build_model": build_model}
    if _torch() is not None:
        from . import torch_probes

        table.update(torch_probes.PROBES)
    return table


def materialise(value, handles: dict):
    """Turn decoded request values into real objects: specs into models, handles into objects."""
    if isinstance(value, ModelSpec):
        return build_model(value)
    if isinstance(value, TensorData):  # a tensor the parent sent: rebuilt on the device it names
        import torch

        return torch.from_numpy(value.array.copy()).to(value.device)
    if type(value).__name__ == "Handle":
        return handles[value.id]
    if isinstance(value, list):
        return [materialise(v, handles) for v in value]
    if isinstance(value, tuple):
        return tuple(materialise(v, handles) for v in value)
    if isinstance(value, dict):
        return {k: materialise(v, handles) for k, v in value.items()}
    return value


def to_data(value, depth: int = 0):
    """Turn a student's return value into something the protocol carries (no custom objects)."""
    if depth > 32:
        return Opaque("deeply nested value")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic):
        return value if value.dtype.kind in "biufc" else Opaque(type(value).__name__)
    if type(value) is np.ndarray or isinstance(value, np.ndarray):
        return np.asarray(value).view(np.ndarray) if value.dtype.kind in "biufc" else Opaque(f"ndarray of dtype {value.dtype}")
    if type(value) in (list, tuple):
        return type(value)(to_data(v, depth + 1) for v in value)
    if type(value) is dict:
        return {to_data(k, depth + 1): to_data(v, depth + 1) for k, v in value.items()
                if type(k) in (str, int, bool, float, tuple) or k is None}
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        t = value.detach()
        dtype = str(t.dtype).removeprefix("torch.")
        if t.dtype == torch.bfloat16:
            t = t.float()
        if t.is_complex() or t.dtype.is_floating_point or t.dtype in (torch.int8, torch.int16, torch.int32, torch.int64,
                                                                       torch.uint8, torch.bool):
            return TensorData(t.cpu().numpy().copy(), dtype, str(value.device), bool(value.requires_grad))
    if torch is not None and isinstance(value, torch.Size):
        return tuple(int(d) for d in value)
    return Opaque(type(value).__qualname__)


def _torch():
    import sys

    return sys.modules.get("torch")
