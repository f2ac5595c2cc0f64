"""Exercise 1 -- a multi-channel 2-D convolution, in NumPy only (loop version).

A second key for the same contract as ``solutions/exercise1.py``, written with
explicit loops so it can be read line by line in class: one output value is
one window of the padded input, multiplied element-wise with one filter and
summed. It is slower than the vectorised key, and grades the same.

Grade a copy of it with ``cnn-grade exercise1 --file solutions/exercise1_loops.py``
(or copy it over ``exercises/exercise1.py`` and run ``cnn-grade exercise1``).
"""

import operator

import numpy as np


def conv2d(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:
    """Cross-correlate a multi-channel image with a bank of filters.

    ``x`` is ``(C_in, H, W)``, ``weight`` is ``(C_out, C_in, kH, kW)`` and
    ``bias`` is ``(C_out,)`` or ``None``. ``stride`` and ``padding`` are an
    int or a pair ``(along H, along W)`` given as a tuple or a list; NumPy
    integers count as ints. Padding adds zeros on both sides.

    Returns an array of shape ``(C_out, H_out, W_out)`` with
    ``H_out = (H + 2*pH - kH) // sH + 1`` (the same rule for W), holding what
    ``torch.nn.functional.conv2d`` computes: the kernel is *not* flipped.
    Float32 inputs give a float32 result, float64 inputs a float64 result.

    Raises ``ValueError`` for: ``x`` not 3-D, ``weight`` not 4-D, different
    channel counts in ``x`` and ``weight``, a bias that is not one value per
    output channel, a stride below 1, a negative padding, or a kernel larger
    than the padded input (a kernel of exactly that size is allowed).
    The arrays passed in are never modified.
    """
    # BEGIN SOLUTION
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
        if bias.shape != (c_out,):
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

    # Step 1: a fresh, zero-filled canvas with the image copied into its middle.
    padded = np.zeros((c_in, height + 2 * p_h, width + 2 * p_w), dtype=x.dtype)
    padded[:, p_h:p_h + height, p_w:p_w + width] = x

    # Step 2: how many window positions fit along each axis.
    h_out = (height + 2 * p_h - k_h) // s_h + 1
    w_out = (width + 2 * p_w - k_w) // s_w + 1

    # Step 3: one dot product per (filter, row, column).
    arrays = [x, weight] if bias is None else [x, weight, bias]
    out = np.zeros((c_out, h_out, w_out), dtype=np.result_type(*arrays))
    for o in range(c_out):
        for i in range(h_out):
            for j in range(w_out):
                top, left = i * s_h, j * s_w
                window = padded[:, top:top + k_h, left:left + k_w]
                out[o, i, j] = np.sum(window * weight[o])
        if bias is not None:
            out[o] += bias[o]
    return out
    # END SOLUTION


if __name__ == "__main__":
    image = np.zeros((1, 6, 6))
    image[:, :, 3:] = 1.0
    edge = np.array([[-1.0, 0.0, 1.0]] * 3).reshape(1, 1, 3, 3)
    try:
        result = conv2d(image, edge)
    except NotImplementedError:
        print("conv2d: not implemented yet")
    else:
        print("input", image.shape, "kernel", edge.shape, "->", np.shape(result))
        print(np.asarray(result)[0])
        print("expected shape (1, 4, 4), each row reading [0, 3, 3, 0]")
