"""Exercise 1 -- a multi-channel 2-D convolution, in NumPy only.

Your task: write ``conv2d`` so that, for one image (no batch axis), it returns
what ``torch.nn.functional.conv2d`` would return -- but using nothing except
NumPy and the Python standard library.

How to work on it
-----------------
* Replace the ``raise NotImplementedError`` line inside ``conv2d`` with your
  code. Extra helper functions are welcome; keep the name and the signature of
  ``conv2d`` as they are.
* ``python exercises/exercise1.py`` runs the small demo at the bottom of this
  file, so you can look at your output before grading.
* ``cnn-grade exercise1`` runs the hidden checks and explains what went wrong.

Things to keep in mind
----------------------
* Slide the kernel over the image *without flipping it* (cross-correlation),
  exactly as PyTorch's ``Conv2d`` does.
* Do not import torch, scipy or any other array library, and never modify the
  arrays you are given.
* Plain Python loops are accepted; a vectorised version (for instance with
  ``np.lib.stride_tricks.sliding_window_view`` and ``np.einsum``) is faster and
  a good second step.
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
    raise NotImplementedError


if __name__ == "__main__":
    # A 6x6 grey image: dark on the left, bright on the right.
    image = np.zeros((1, 6, 6))
    image[:, :, 3:] = 1.0
    # One 3x3 filter that answers to a dark-to-bright step from left to right.
    edge = np.array([[-1.0, 0.0, 1.0]] * 3).reshape(1, 1, 3, 3)

    try:
        result = conv2d(image, edge)
    except NotImplementedError:
        print("conv2d: not implemented yet")
    else:
        print("input", image.shape, "kernel", edge.shape, "->", np.shape(result))
        print("expected shape (1, 4, 4); the step sits between columns 2 and 3:")
        print(np.asarray(result)[0])
        print("expected each row to read [0, 3, 3, 0]")

        rgb = np.random.default_rng(0).standard_normal((3, 8, 8))
        filters = np.random.default_rng(1).standard_normal((8, 3, 3, 3))
        for stride, padding in [(1, 0), (1, 1), (2, 1), ((1, 2), [0, 1])]:
            out = conv2d(rgb, filters, stride=stride, padding=padding)
            print(f"stride={stride!s:7} padding={padding!s:7} -> {np.shape(out)}")
