"""Computes every number correctly but never raises, whatever it is given.

expect: fails output_size_errors trace_errors layers_of_errors
names: valueerror
"""
import torch.nn as nn


def conv_output_size(size, kernel_size, stride=1, padding=0):
    out = (size + 2 * padding - kernel_size) // stride + 1
    return int(out)


def trace(layers, input_size):
    rows = []
    size, rf, jump = input_size, 1, 1
    for i, (k, s, p) in enumerate(layers):
        out = (size + 2 * p - k) // s + 1
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
    if isinstance(v, tuple):
        v = v[0]
    return v


def layers_of(model):
    result = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k = _one(m.kernel_size, "kernel_size")
            s = _one(m.stride, "stride")
            p = _one(m.padding, "padding")
            result.append((k, s, p))
    return result
