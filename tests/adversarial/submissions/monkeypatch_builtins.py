"""Patches builtins at import (isinstance always true, len lies, print and open gone): the child's own code breaks.

exercise: exercise4
statuses: crashed
passes: none
"""
import builtins

import torch.nn as nn

_real_isinstance = builtins.isinstance
_real_len = builtins.len


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        out_channels = out_channels or in_channels
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return self.bn1(self.conv1(x))


builtins.isinstance = lambda obj, cls: True
builtins.len = lambda obj: 3
builtins.print = lambda *args, **kwargs: None
builtins.open = lambda *args, **kwargs: None
builtins.sorted = lambda iterable, *args, **kwargs: ["ResidualBlock"]
