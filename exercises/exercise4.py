"""Exercise 4 -- a residual block, the building unit of ResNet.

A residual block computes a small correction ``F(x)`` with two convolutions
and adds it to its input instead of replacing the input: the output is
``ReLU(F(x) + shortcut(x))``. When the block changes the number of channels
or the spatial size, the shortcut must change them too, with a 1x1
convolution (a *projection*); otherwise it is the input itself.

How to work on it
-----------------
* Replace each ``raise NotImplementedError`` line with your code. Keep the
  class name and the signatures; attribute names and containers are up to
  you. Keep the ``super().__init__()`` line first in ``__init__``.
* ``python exercises/exercise4.py`` prints the output shape for the three
  kinds of block (same shape, more channels, more channels and half the size).
* ``cnn-grade exercise4`` runs the hidden checks and explains what went wrong.

Things to keep in mind
----------------------
* Every convolution here feeds a BatchNorm, so none of them needs a bias.
* The stride belongs to the *first* 3x3 convolution (and to the projection).
* The last ReLU comes after the addition, not before it.
"""

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a skip connection around them.

    Main path::

        Conv2d(3x3, stride, padding 1, no bias) -> BatchNorm2d -> ReLU
        -> Conv2d(3x3, padding 1, no bias) -> BatchNorm2d

    Shortcut: the input unchanged when ``stride == 1`` and the channel count
    stays the same; otherwise ``Conv2d(1x1, stride, no bias) -> BatchNorm2d``.

    Output: ``ReLU(main(x) + shortcut(x))``, of shape
    ``(N, out_channels, H_out, W_out)`` with ``H_out = (H - 1) // stride + 1``.

    ``out_channels`` defaults to ``in_channels``.
    """

    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.randn(2, 16, 32, 32)
    cases = [
        ("same shape        ResidualBlock(16)", (16,), (2, 16, 32, 32)),
        ("more channels     ResidualBlock(16, 32)", (16, 32), (2, 32, 32, 32)),
        ("downsample        ResidualBlock(16, 32, stride=2)", (16, 32, 2), (2, 32, 16, 16)),
    ]
    for title, args, expected in cases:
        try:
            block = ResidualBlock(*args)
            out = block(x)
        except NotImplementedError:
            print(f"{title}: not implemented yet")
            continue
        projection = any(
            isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) for m in block.modules()
        )
        print(f"{title}: {tuple(x.shape)} -> {tuple(out.shape)}  (expected {expected}; "
              f"1x1 projection: {'yes' if projection else 'no'})")
