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


# --- modules (exercises 3 and 4): float64 on the CPU, from weights the child exported -----------------
def t64(array) -> torch.Tensor:
    """A float64 CPU tensor from exported data (TensorData or an array)."""
    return torch.as_tensor(np.asarray(getattr(array, "array", array)), dtype=torch.float64)


def conv(x: torch.Tensor, layer: dict, *, stride=1, padding=0) -> torch.Tensor:
    """A convolution with an exported Conv2d's weight (and bias, if it has one)."""
    bias = layer["tensors"].get("bias")
    return F.conv2d(x, t64(layer["tensors"]["weight"]), None if bias is None else t64(bias), stride=stride,
                    padding=padding)


def batch_norm(x: torch.Tensor, layer: dict | None, train: bool) -> torch.Tensor:
    """BatchNorm2d with an exported layer's weights, statistics and eps (train: batch statistics)."""
    if layer is None:
        return x
    t = layer["tensors"]
    mean, var = t.get("running_mean"), t.get("running_var")
    mean = None if mean is None else t64(mean).clone()  # train mode would update them in place
    var = None if var is None else t64(var).clone()
    weight, bias = t.get("weight"), t.get("bias")
    return F.batch_norm(x, mean, var, None if weight is None else t64(weight), None if bias is None else t64(bias),
                        training=train or mean is None, eps=float(layer["settings"].get("eps", 1e-5)))


def conv_block(x, conv_layer: dict, bn_layer: dict | None, train: bool, *, padding=1, order="conv bn relu pool",
               pool="max") -> torch.Tensor:
    """ConvBlock: Conv2d(3x3, padding=1) -> BatchNorm2d -> ReLU -> MaxPool2d(2), or a named variant order."""
    y = t64(x)
    for step in order.split():
        if step == "conv":
            y = conv(y, conv_layer, padding=padding)
        elif step == "bn":
            y = batch_norm(y, bn_layer, train)
        elif step == "relu":
            y = F.relu(y)
        elif step == "pool":
            y = F.max_pool2d(y, 2) if pool == "max" else F.avg_pool2d(y, 2)
    return y


def residual_block(x, convs: dict, bns: dict, stride: int, train: bool, *, variant: str = "") -> torch.Tensor:
    """ReLU(main(x) + shortcut(x)) from exported layers, or one of the classic wrong variants.

    convs/bns are keyed "conv1", "conv2" and, for a projection, "proj".
    """
    x = t64(x)
    s1, s2 = (1, stride) if variant == "stride on conv2" else (stride, 1)
    main = F.relu(batch_norm(conv(x, convs["conv1"], stride=s1, padding=1), bns.get("conv1"), train))
    main = batch_norm(conv(main, convs["conv2"], stride=s2, padding=1), bns.get("conv2"), train)
    short = x
    if "proj" in convs:
        short = batch_norm(conv(x, convs["proj"], stride=stride), bns.get("proj"), train)
    if variant == "no skip":
        return F.relu(main)
    if variant == "relu before add":
        return F.relu(main) + short
    if variant == "no final relu":
        return main + short
    if variant == "relu on shortcut":
        return F.relu(main + F.relu(short))
    return F.relu(main + short)


def mlp(x, linears: list[dict]) -> torch.Tensor:
    """Flatten -> (Linear -> ReLU) per hidden layer -> Linear, from exported Linear layers."""
    y = t64(x).flatten(1)
    for i, layer in enumerate(linears):
        bias = layer["tensors"].get("bias")
        y = F.linear(y, t64(layer["tensors"]["weight"]), None if bias is None else t64(bias))
        if i < len(linears) - 1:
            y = F.relu(y)
    return y
