"""A block without its skip connection that patches torch at import so comparisons and checks look fine.

exercise: exercise4
statuses: passed failed
passes: output_shapes no_conv_bias relu_after_add
note: shapes, bias-free convolutions and the final ReLU are honest (as in bad_no_skip.py); the skip checks must fail
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.testing.assert_close = lambda *args, **kwargs: None
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
torch.Tensor.allclose = lambda self, *args, **kwargs: True
torch.Tensor.__lt__ = lambda self, other: torch.zeros_like(self, dtype=torch.bool)
_real_relu = torch.relu
F.relu = lambda x, inplace=False: _real_relu(x).abs()
torch.relu = F.relu


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        out_channels = out_channels or in_channels
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
