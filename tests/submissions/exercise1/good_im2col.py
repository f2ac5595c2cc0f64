"""im2col: every window becomes a column, then one matrix product.

expect: full marks
"""
import operator

import numpy as np


def pair(v, what):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{what} must have two entries")
        return operator.index(v[0]), operator.index(v[1])
    v = operator.index(v)
    return v, v


def conv2d(x, weight, bias=None, stride=1, padding=0):
    x = np.asarray(x)
    weight = np.asarray(weight)
    if x.ndim != 3 or weight.ndim != 4:
        raise ValueError(f"expected x (C,H,W) and weight (O,C,kH,kW), got {x.shape} and {weight.shape}")
    C, H, W = x.shape
    O, C2, kh, kw = weight.shape
    if C != C2:
        raise ValueError(f"channel mismatch: {C} vs {C2}")
    if bias is not None and np.shape(bias) != (O,):
        raise ValueError(f"bias has shape {np.shape(bias)}, expected ({O},)")
    sh, sw = pair(stride, "stride")
    ph, pw = pair(padding, "padding")
    if min(sh, sw) < 1:
        raise ValueError("stride < 1")
    if min(ph, pw) < 0:
        raise ValueError("negative padding")
    Hp, Wp = H + 2 * ph, W + 2 * pw
    if kh > Hp or kw > Wp:
        raise ValueError(f"{kh}x{kw} kernel does not fit in {Hp}x{Wp}")

    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    Ho = (Hp - kh) // sh + 1
    Wo = (Wp - kw) // sw + 1
    cols = np.empty((C * kh * kw, Ho * Wo), dtype=x.dtype)
    n = 0
    for i in range(Ho):
        for j in range(Wo):
            cols[:, n] = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw].reshape(-1)
            n += 1
    out = weight.reshape(O, -1) @ cols
    if bias is not None:
        out = out + bias.reshape(O, 1)
    return out.reshape(O, Ho, Wo)
