"""PyTorch references, computed in the parent in float64 on the CPU."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def pair(value) -> tuple[int, int]:
    """An int or an (along H, along W) pair, as a pair of ints."""
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0) -> np.ndarray:
    """F.conv2d on one (C_in, H, W) image, in float64: (C_out, H_out, W_out)."""
    xt = torch.from_numpy(np.asarray(x, np.float64))[None]  # (1, C_in, H, W)
    wt = torch.from_numpy(np.asarray(weight, np.float64))  # (C_out, C_in, kH, kW)
    bt = None if bias is None else torch.from_numpy(np.asarray(bias, np.float64))
    return F.conv2d(xt, wt, bt, stride=pair(stride), padding=pair(padding))[0].numpy()


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """The spatial size nn.Conv2d produces, measured by running it on zeros."""
    x = torch.zeros(1, 1, size, 1, dtype=torch.float64)
    w = torch.zeros(1, 1, kernel, 1, dtype=torch.float64)
    return int(F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0)).shape[2])


def formula(size: int, kernel: int, stride: int, padding: int, axis: str = "H") -> str:
    """The output-size formula with the numbers filled in."""
    out = (size + 2 * padding - kernel) // stride + 1
    return (f"{axis}_out = ({axis} + 2·p - k) // s + 1 = ({size} + 2·{padding} - {kernel}) // {stride} + 1 = {out}")


def trace_sizes(layers, input_size: int) -> list[int]:
    """Output size after each layer, measured by running the stack (None once a layer empties it)."""
    sizes, size = [], input_size
    for k, s, p in layers:
        size = output_size(size, k, s, p) if size is not None and size + 2 * p >= k else None
        sizes.append(size)
    return sizes


def receptive_fields(layers) -> list[int]:
    """Receptive field of a unit after each layer, measured with autograd.

    An all-ones stack has a positive gradient at every input pixel that can reach a unit, so the
    extent of the non-zero gradient of one central output unit is its receptive field.
    """
    fields = []
    for depth in range(1, len(layers) + 1):
        stack = layers[:depth]
        span = 1
        for k, s, _ in stack:  # a generous input, so the central unit never sees the border
            span = span * s + k
        n = 4 * span + 8
        x = torch.ones(1, 1, n, 1, dtype=torch.float64, requires_grad=True)
        y = x
        for k, s, p in stack:
            y = F.conv2d(y, torch.ones(1, 1, k, 1, dtype=torch.float64), stride=(s, 1), padding=(p, 0))
        y[0, 0, y.shape[2] // 2, 0].backward()
        rows = torch.nonzero(x.grad[0, 0, :, 0]).flatten()
        fields.append(int(rows.max() - rows.min() + 1))
    return fields
