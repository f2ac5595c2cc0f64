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
