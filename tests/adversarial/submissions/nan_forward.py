"""forward returns NaN (and, for a stride-2 block, +inf) of exactly the expected shape.

exercise: exercise4
statuses: failed passed
passes: output_shapes
note: the shape check may pass; a map of NaN has no negative values, yet ReLU-after-add must not pass on it
"""
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(in_channels, out_channels or in_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels or in_channels)

    def forward(self, x):
        out = self.bn1(self.conv1(x))
        return torch.full_like(out, float("nan") if self.stride == 1 else float("inf"))
