"""forward returns a new impostor per call: a tensor subclass, a dict, a list, a generator, itself, complex.

exercise: exercise4
statuses: failed
passes: none
"""
import torch
import torch.nn as nn


class Pretender(torch.Tensor):
    def detach(self):
        return torch.full((1,), float("nan"))

    def __eq__(self, other):
        return True

    __hash__ = torch.Tensor.__hash__


class ResidualBlock(nn.Module):
    calls = 0

    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels or in_channels, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels or in_channels)

    def forward(self, x):
        out = self.bn(self.conv(x))
        ResidualBlock.calls += 1
        impostors = [out.as_subclass(Pretender), {"out": out}, [out], (o for o in [out]), self, out.to(torch.complex64)]
        return impostors[ResidualBlock.calls % len(impostors)]
