"""Registers and computes the shortcut before the main path; different attribute names.

expect: full marks
"""
import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        c_out = in_channels if out_channels is None else out_channels
        self.needs_projection = stride != 1 or c_out != in_channels
        if self.needs_projection:
            self.down = nn.Conv2d(in_channels, c_out, 1, stride, bias=False)
            self.down_norm = nn.BatchNorm2d(c_out)
        self.first = nn.Conv2d(in_channels, c_out, 3, stride, 1, bias=False)
        self.first_norm = nn.BatchNorm2d(c_out)
        self.second = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.second_norm = nn.BatchNorm2d(c_out)

    def forward(self, x):
        if self.needs_projection:
            residual = self.down_norm(self.down(x))
        else:
            residual = x
        y = torch.relu(self.first_norm(self.first(x)))
        y = self.second_norm(self.second(y))
        return torch.relu(y + residual)
