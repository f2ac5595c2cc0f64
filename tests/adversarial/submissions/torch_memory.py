"""Asks torch for a 1 TiB tensor in __init__: torch's allocator refuses it with a RuntimeError, not a MemoryError.

exercise: exercise4
statuses: memory
passes: none
options: memory_mb=512
"""
import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        self.hoard = torch.empty(2**40, dtype=torch.uint8)

    def forward(self, x):
        return x
