"""Allocates and fills a 3 GiB tensor under the default 2,048 MiB cap: refused, status memory.

exercise: exercise4
statuses: memory
passes: none
checks: output_shapes numerics_train
"""
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        self.hoard = torch.ones(3 * 2**30, dtype=torch.uint8)

    def forward(self, x):
        return x
