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
    if type(value) is int:
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic) and value.dtype.str in ALLOWED_DTYPES:
        item = value.item()
        if isinstance(item, complex):  # JSON has no complex numbers: a [real, imag] pair
            item = [_float_item(item.real), _float_item(item.imag)]
        elif isinstance(item, float):
            item = _float_item(item)
        return {"__npscalar__": [value.dtype.name, item]}
    if isinstance(value, np.ndarray):
        index = _add_buffer(value, buffers)
        return {"__object__": f"ndarray of dtype {value.dtype}"} if index is None else {"__array__": index}
    if isinstance(value, TensorData):
        index = _add_buffer(np.asarray(value.array), buffers)
        if index is None:
            return {"__object__": f"tensor of dtype {value.dtype}"[:200]}
        return {"__tensor__": index, "dtype": value.dtype, "device": value.device,
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


def _float_item(x: float):
    return x if math.isfinite(x) else repr(x)


def _add_buffer(value: np.ndarray, buffers: list) -> int | None:
    """Append a little-endian, C-ordered copy (or view) of an array; None if its dtype can't cross."""
    little = value.dtype.newbyteorder("<") if value.dtype.str.startswith(">") else value.dtype
    if little.str not in ALLOWED_DTYPES:
        return None
    # astype keeps 0-d arrays 0-d (np.ascontiguousarray would make them 1-d)
    buffers.append(value.view(np.ndarray).astype(little, order="C", copy=False))
    return len(buffers) - 1


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
        return _npscalar(_list(obj[tag]))
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
        spec = _decode(obj[tag], buffers, depth + 1)
        if type(spec) is not dict:
            raise FrameError("malformed model spec")
        return ModelSpec(spec)
    raise FrameError(f"unknown tag {tag[:40]!r}")


def _npscalar(pair: list):
    if len(pair) != 2 or not isinstance(pair[0], str) or len(pair[0]) > 20:
        raise FrameError("malformed NumPy scalar")
    try:
        dtype = np.dtype(pair[0])
    except (TypeError, ValueError, LookupError):
        raise FrameError("malformed NumPy scalar") from None
    if dtype.str not in ALLOWED_DTYPES:
        raise FrameError("malformed NumPy scalar")
    raw = pair[1]
    if dtype.kind == "c":
        if not isinstance(raw, list) or len(raw) != 2:
            raise FrameError("malformed NumPy scalar")
        value = complex(_number(raw[0]), _number(raw[1]))
    else:
        value = _number(raw)
    try:
        with np.errstate(all="ignore"):
            return dtype.type(value)
    except (OverflowError, ValueError, TypeError):
        raise FrameError("NumPy scalar out of range") from None


def _number(value):
    if type(value) in (bool, int, float):
        return value
    if value in ("nan", "inf", "-inf"):
        return float(value)
    raise FrameError("malformed number in frame")


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
    try:
        head = json.dumps(header, allow_nan=False).encode()
    except (TypeError, ValueError) as e:  # e.g. an int with more digits than Python will print
        raise FrameError(f"value cannot be encoded: {e}") from None
    return b"".join([struct.pack("<I", len(head)), head, *(b.tobytes() for b in buffers)])


def read_frame(read_exact, *, max_buffers: int = MAX_BUFFERS):
    """Read one frame with `read_exact(n) -> bytes`; validate everything; return the message."""
    (n,) = struct.unpack("<I", _read(read_exact, 4))
    if n > MAX_HEADER:
        raise FrameError(f"header of {n} bytes is over the limit")
    try:
        header = json.loads(_read(read_exact, n).decode())
    except (UnicodeDecodeError, ValueError) as e:
        raise FrameError(f"header is not JSON: {e}") from None
    except RecursionError:
        raise FrameError("header nested too deeply") from None
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
        data = _read(read_exact, nbytes)
        try:
            arrays.append(np.frombuffer(data, dtype=dtype).reshape(shape).copy())
        except ValueError as e:  # e.g. a zero-size array with a dimension numpy can't hold
            raise FrameError(f"malformed array shape: {e}") from None
    try:
        return _decode(header["msg"], arrays)
    except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as e:
        # Safety net: whatever a malformed message trips over is a protocol error, never a crash.
        raise FrameError(f"malformed message: {type(e).__name__}: {e}"[:300]) from None


def _read(read_exact, n: int) -> bytes:
    data = read_exact(n)
    if len(data) != n:  # a reader that came up short: the stream ended
        raise EOFError
    return data
