"""Refuses a bias that is too long, but lets a bias of length 1 through.

NumPy broadcasts a length-1 bias over every output channel, so the call returns an array
instead of saying that the bias must hold one value per filter.

expect: fails errors_mismatch
names: valueerror
"""
import operator

import numpy as np


def conv2d(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:
    """Cross-correlate a multi-channel image with a bank of filters.

    Parameters
    ----------
    x : ndarray, shape (C_in, H, W)
        The input image, channels first.
    weight : ndarray, shape (C_out, C_in, kH, kW)
        One filter per output channel; every filter spans all input channels.
    bias : ndarray of shape (C_out,), or None
        Added to every position of the matching output channel.
    stride : int or pair (sH, sW)
        Step of the window along H and along W. A tuple or a list of two
        values sets the two directions separately; NumPy integers are fine.
    padding : int or pair (pH, pW)
        Rows of zeros added above *and* below the image (pH), columns of zeros
        added left *and* right (pW).

    Returns
    -------
    ndarray, shape (C_out, H_out, W_out)
        ``H_out = (H + 2*pH - kH) // sH + 1`` and likewise for W.
        ``out[o, i, j] = bias[o] + sum over c, u, v of
        weight[o, c, u, v] * x_padded[c, i*sH + u, j*sW + v]`` -- no flip.
        When all inputs share a float dtype, the result has that dtype.

    Raises
    ------
    ValueError
        If ``x`` is not 3-D, ``weight`` is not 4-D, the channel counts of ``x``
        and ``weight`` differ, ``bias`` does not hold one value per output
        channel, a stride is below 1, a padding is negative, or the kernel
        does not fit inside the padded input. A kernel exactly as large as the
        padded input is fine: it gives a 1x1 output.
    """
    def as_pair(value, name):
        if isinstance(value, (tuple, list)):
            if len(value) != 2:
                raise ValueError(
                    f"{name} must be an int or a pair (along H, along W), got {value!r}"
                )
            along_h, along_w = value
        else:
            along_h = along_w = value
        try:
            return operator.index(along_h), operator.index(along_w)
        except TypeError:
            raise TypeError(f"{name} must contain integers, got {value!r}") from None

    x = np.asarray(x)
    weight = np.asarray(weight)
    if x.ndim != 3:
        raise ValueError(f"x must be 3-D with shape (C_in, H, W), got shape {x.shape}")
    if weight.ndim != 4:
        raise ValueError(
            f"weight must be 4-D with shape (C_out, C_in, kH, kW), got shape {weight.shape}"
        )
    c_in, height, width = x.shape
    c_out, weight_c_in, k_h, k_w = weight.shape
    if weight_c_in != c_in:
        raise ValueError(
            f"channel mismatch: x has {c_in} input channels but weight expects "
            f"{weight_c_in} (weight.shape[1])"
        )
    if bias is not None:
        bias = np.asarray(bias)
        if bias.size > c_out:  # only a too-long bias is refused: a length-1 bias broadcasts
            raise ValueError(
                f"bias must have shape ({c_out},), one value per output channel, "
                f"got shape {bias.shape}"
            )

    s_h, s_w = as_pair(stride, "stride")
    p_h, p_w = as_pair(padding, "padding")
    if s_h < 1 or s_w < 1:
        raise ValueError(f"stride must be at least 1, got {(s_h, s_w)}")
    if p_h < 0 or p_w < 0:
        raise ValueError(f"padding must not be negative, got {(p_h, p_w)}")
    if k_h < 1 or k_w < 1:
        raise ValueError(f"the kernel must be at least 1x1, got {k_h}x{k_w}")
    if k_h > height + 2 * p_h or k_w > width + 2 * p_w:
        raise ValueError(
            f"kernel {k_h}x{k_w} is larger than the padded input "
            f"{height + 2 * p_h}x{width + 2 * p_w}"
        )

    # np.pad always returns a new array, so x itself is never touched.
    padded = np.pad(x, ((0, 0), (p_h, p_h), (p_w, p_w)))
    # windows[c, i, j, u, v] == padded[c, i*s_h + u, j*s_w + v]
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k_h, k_w), axis=(1, 2))
    windows = windows[:, ::s_h, ::s_w]
    out = np.einsum("cijuv,ocuv->oij", windows, weight, optimize=True)
    if bias is not None:
        out = out + bias[:, None, None]
    return np.ascontiguousarray(out)
