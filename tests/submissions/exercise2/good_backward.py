"""Receptive field computed backwards, from one unit of the last layer down to the image.

Walking back through a layer (k, s): r units of its output cover s*r + (k - s)
units of its input.

expect: full marks
"""
from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0):
    if size < 1:
        raise ValueError("size must be >= 1")
    if kernel_size < 1:
        raise ValueError("kernel_size must be >= 1")
    if stride < 1:
        raise ValueError("stride must be >= 1")
    if padding < 0:
        raise ValueError("padding must be >= 0")
    n = (size + 2 * padding - kernel_size) // stride + 1
    if n < 1:
        raise ValueError("kernel does not fit: empty output")
    return n


def receptive_field(layers):
    r = 1
    for k, s, _p in reversed(list(layers)):
        r = s * r + (k - s)
    return r


def trace(layers, input_size):
    layers = list(layers)
    out, size = [], input_size
    for idx, (k, s, p) in enumerate(layers):
        try:
            size = conv_output_size(size, k, s, p)
        except ValueError as e:
            raise ValueError(f"layer #{idx + 1} (1-based): {e}")
        out.append((size, receptive_field(layers[:idx + 1])))
    return out


def layers_of(model):
    found = []
    for mod in model.modules():
        if not isinstance(mod, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        vals = []
        for name in ("kernel_size", "stride", "padding", "dilation"):
            v = getattr(mod, name, 1)
            if isinstance(v, str):
                raise ValueError(f"{name} {v!r} is not a number")
            a, b = v if isinstance(v, (tuple, list)) else (v, v)
            if a != b:
                raise ValueError(f"{name} {v} is not square")
            vals.append(int(a))
        if vals[3] != 1:
            raise ValueError("dilated layers are not supported")
        found.append(tuple(vals[:3]))
    return found
