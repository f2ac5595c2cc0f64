"""Output size written as (size + 2p - k) // s, without the + 1.

expect: fails output_size_grid trace_sizes
names: output size
"""
import torch.nn as nn


def conv_output_size(size, kernel_size, stride=1, padding=0):
    if size < 1 or kernel_size < 1 or stride < 1 or padding < 0:
        raise ValueError(f"bad arguments: size={size} k={kernel_size} s={stride} p={padding}")
    out = (size + 2 * padding - kernel_size) // stride
    if out < 1:
        raise ValueError(f"output size {out} is empty")
    return int(out)


def trace(layers, input_size):
    rows = []
    size, rf, jump = input_size, 1, 1
    for i, (k, s, p) in enumerate(layers):
        out = (size + 2 * p - k) // s
        if out < 1:
            raise ValueError(f"layer {i} (0-based) would produce an empty map from size {size}")
        size = out
        rf += (k - 1) * jump
        jump *= s
        rows.append((size, rf))
    return rows


def receptive_field(layers):
    rf, jump = 1, 1
    for k, s, _ in layers:
        rf += (k - 1) * jump
        jump *= s
    return rf


def _one(v, what):
    if isinstance(v, str):
        raise ValueError(f"{what}={v!r}: string padding is not supported")
    if isinstance(v, tuple):
        if len(set(v)) != 1:
            raise ValueError(f"{what}={v} is not square")
        v = v[0]
    return int(v)


def layers_of(model):
    result = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k = _one(m.kernel_size, "kernel_size")
            s = _one(m.stride, "stride")
            p = _one(m.padding, "padding")
            if hasattr(m, "dilation") and _one(m.dilation, "dilation") != 1:
                raise ValueError("dilation must be 1")
            result.append((k, s, p))
    return result
