"""Hands the work to PyTorch: right numbers, but the exercise is NumPy only.

expect: fails numpy_only
names: numpy
"""
import numpy as np
import torch
import torch.nn.functional as F


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv2d(x, weight, bias=None, stride=1, padding=0):
    if x.ndim != 3 or weight.ndim != 4:
        raise ValueError("x must be (C,H,W) and weight (O,C,kH,kW)")
    if x.shape[0] != weight.shape[1]:
        raise ValueError("channel mismatch between x and weight")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError("bias must have one value per filter")
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    if sh < 1 or sw < 1 or ph < 0 or pw < 0:
        raise ValueError("stride must be >= 1 and padding >= 0")
    kh, kw = weight.shape[2:]
    if kh > x.shape[1] + 2 * ph or kw > x.shape[2] + 2 * pw:
        raise ValueError("kernel larger than the padded input")

    b = None if bias is None else torch.from_numpy(np.array(bias))
    out = F.conv2d(torch.from_numpy(np.array(x))[None], torch.from_numpy(np.array(weight)),
                   b, stride=(sh, sw), padding=(ph, pw))
    return out[0].numpy()
