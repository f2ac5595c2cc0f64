"""The shortcut is always x itself, even when the block changes channels or stride.

Its forward fails at the addition whenever the shape changes; the checks of the other ideas (values, skip,
ReLU after the addition, bias) judge it where no projection is needed.

expect: fails output_shapes projection_when_needed
names: projection
"""
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        out_channels = out_channels or in_channels
        self.main = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )

    def forward(self, x):
        return torch.relu(self.main(x) + x)
