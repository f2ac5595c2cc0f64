"""Frames between grader and child: a JSON header followed by raw array buffers. No pickle.

A frame on the wire:  u32 header length | header JSON (utf-8) | buffer 0 | buffer 1 | ...
The header is {"msg": <encoded message>, "buffers": [{"dtype": "<f8", "shape": [2, 3]}, ...]}.
Values are JSON with tagged objects: {"__tuple__": [...]}, {"__array__": i},
{"__tensor__": i, "device": "cpu", "requires_grad": false}, {"__npscalar__": ["int64", 3]},
{"__dict__": [[key, value], ...]}, {"__handle__": n}, {"__object__": "TypeName"}.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass

import numpy as np

# Plain numeric dtypes only: object, void, string and datetime arrays never cross.
ALLOWED_DTYPES = frozenset(
    np.dtype(t).str for t in ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16")
)
MAX_HEADER = 16 * 2**20
MAX_BUFFERS = 512 * 2**20
MAX_DEPTH = 64


class FrameError(Exception):
    """A frame that breaks the protocol or its limits."""


@dataclass(frozen=True)
class Handle:
    """An object that stays in the child (a student's module, say), named by a number."""

    id: int


@dataclass(frozen=True)
class Opaque:
    """Something the child returned that is not plain data; only its type name crosses."""

    type_name: str


@dataclass(frozen=True)
class TensorData:
    """A torch tensor from the child: its values as a NumPy array, plus where it lived."""

    array: np.ndarray
    dtype: str  # torch dtype name, e.g. "float32"
    device: str
    requires_grad: bool


class ModelSpec(dict):
    """A description of an nn.Module for the child to build with trusted code (see probes)."""


def _encode(value, buffers: list, depth: int = 0):
    if depth > MAX_DEPTH:
        raise FrameError("value nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and type(value) in (int,):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic) and value.dtype.str in ALLOWED_DTYPES:
        item = value.item()
        return {"__npscalar__": [value.dtype.name, item if not isinstance(item, float) or math.isfinite(item) else repr(item)]}
    if isinstance(value, np.ndarray):
        if value.dtype.str not in ALLOWED_DTYPES and np.dtype(value.dtype.str).newbyteorder("<").str not in ALLOWED_DTYPES:
            return {"__object__": f"ndarray of dtype {value.dtype}"}
        arr = np.ascontiguousarray(value.view(np.ndarray)).astype(value.dtype.newbyteorder("<"), copy=False)
        buffers.append(arr)
        return {"__array__": len(buffers) - 1}
    if isinstance(value, TensorData):
        buffers.append(np.ascontiguousarray(value.array))
        return {"__tensor__": len(buffers) - 1, "dtype": value.dtype, "device": value.device,
                "requires_grad": value.requires_grad}
    if isinstance(value, Handle):
        return {"__handle__": value.id}
    if isinstance(value, Opaque):
        return {"__object__": value.type_name}
    if isinstance(value, ModelSpec):
        return {"__model__": _encode(dict(value), buffers, depth + 1)}
    if type(value) is tuple:
        return {"__tuple__": [_encode(v, buffers, depth + 1) for v in value]}
    if type(value) is list:
        return [_encode(v, buffers, depth + 1) for v in value]
    if type(value) is dict:
        return {"__dict__": [[_encode(k, buffers, depth + 1), _encode(v, buffers, depth + 1)] for k, v in value.items()]}
    return {"__object__": type(value).__qualname__[:200]}


def _decode(obj, buffers: list, depth: int = 0):
    if depth > MAX_DEPTH:
        raise FrameError("value nested too deeply")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [_decode(v, buffers, depth + 1) for v in obj]
    if not isinstance(obj, dict) or len(obj) == 0:
        raise FrameError(f"unexpected value in frame: {type(obj).__name__}")
    tag = next(iter(obj))
    if tag == "__tuple__":
        return tuple(_decode(v, buffers, depth + 1) for v in _list(obj[tag]))
    if tag == "__dict__":
        out = {}
        for pair in _list(obj[tag]):
            if not isinstance(pair, list) or len(pair) != 2:
                raise FrameError("malformed dict entry")
            key = _decode(pair[0], buffers, depth + 1)
            try:
                out[key] = _decode(pair[1], buffers, depth + 1)
            except TypeError as e:  # an unhashable key
                raise FrameError(f"malformed dict key: {e}") from None
        return out
    if tag == "__array__":
        return _buffer(buffers, obj[tag])
    if tag == "__tensor__":
        return TensorData(_buffer(buffers, obj[tag]), str(obj.get("dtype", ""))[:40],
                          str(obj.get("device", ""))[:40], bool(obj.get("requires_grad", False)))
    if tag == "__npscalar__":
        pair = _list(obj[tag])
        if len(pair) != 2 or not isinstance(pair[0], str) or np.dtype(pair[0]).str not in ALLOWED_DTYPES:
            raise FrameError("malformed NumPy scalar")
        value = pair[1] if not isinstance(pair[1], str) else float(pair[1])
        return np.dtype(pair[0]).type(value)
    if tag == "__float__":
        text = obj[tag]
        if text not in ("nan", "inf", "-inf"):
            raise FrameError("malformed float")
        return float(text)
    if tag == "__handle__" and type(obj[tag]) is int:
        return Handle(obj[tag])
    if tag == "__object__":
        return Opaque(str(obj[tag])[:200])
    if tag == "__model__":
        return ModelSpec(_decode(obj[tag], buffers, depth + 1))
    raise FrameError(f"unknown tag {tag[:40]!r}")


def _list(value) -> list:
    if not isinstance(value, list):
        raise FrameError("expected a list in frame")
    return value


def _buffer(buffers: list, index) -> np.ndarray:
    if type(index) is not int or not 0 <= index < len(buffers):
        raise FrameError("array index out of range")
    return buffers[index]


def encode_frame(message) -> bytes:
    """Serialise a message (plain data, arrays, tensors as TensorData) into one frame."""
    buffers: list[np.ndarray] = []
    msg = _encode(message, buffers)
    header = {"msg": msg, "buffers": [{"dtype": b.dtype.str, "shape": list(b.shape)} for b in buffers]}
    head = json.dumps(header, allow_nan=False).encode()
    return b"".join([struct.pack("<I", len(head)), head, *(b.tobytes() for b in buffers)])


def read_frame(read_exact, *, max_buffers: int = MAX_BUFFERS):
    """Read one frame with `read_exact(n) -> bytes`; validate everything; return the message."""
    (n,) = struct.unpack("<I", read_exact(4))
    if n > MAX_HEADER:
        raise FrameError(f"header of {n} bytes is over the limit")
    try:
        header = json.loads(read_exact(n).decode())
    except (UnicodeDecodeError, ValueError) as e:
        raise FrameError(f"header is not JSON: {e}") from None
    if not isinstance(header, dict) or set(header) != {"msg", "buffers"} or not isinstance(header["buffers"], list):
        raise FrameError("header has the wrong layout")
    arrays, total = [], 0
    for spec in header["buffers"]:
        if not isinstance(spec, dict) or not isinstance(spec.get("dtype"), str) or not isinstance(spec.get("shape"), list):
            raise FrameError("malformed buffer description")
        if spec["dtype"] not in ALLOWED_DTYPES:
            raise FrameError(f"dtype {spec['dtype'][:20]!r} is not allowed")
        shape = spec["shape"]
        if len(shape) > 32 or not all(type(d) is int and 0 <= d for d in shape):
            raise FrameError("malformed array shape")
        dtype = np.dtype(spec["dtype"])
        nbytes = math.prod(shape) * dtype.itemsize
        total += nbytes
        if total > max_buffers:
            raise FrameError(f"arrays of more than {max_buffers // 2**20} MiB")
        arrays.append(np.frombuffer(read_exact(nbytes), dtype=dtype).reshape(shape).copy())
    return _decode(header["msg"], arrays)
