"""Reads address 0 through ctypes inside forward: a segmentation fault in the child.

exercise: exercise4
statuses: crashed
passes: none
checks: output_shapes numerics_eval no_conv_bias
"""
import ctypes

import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels or in_channels, 3, stride, 1, bias=False)
        ctypes.string_at(0)

    def forward(self, x):
        return self.conv(x)
