"""A block whose convolutions have a bias, with the grader's inspection code patched (in its own process) to hide it.

exercise: exercise4
statuses: passed failed
passes: output_shapes numerics_train numerics_eval skip_connection projection_when_needed relu_after_add
note: a correct block apart from the bias; no_conv_bias must not pass
"""
import importlib
import sys

import torch.nn as nn
import torch.nn.functional as F


def _grader_module(name):
    """The grader's own module in this process: from sys.modules, else imported past the import blocker."""
    if name in sys.modules:
        return sys.modules[name]
    finders = getattr(sys, "meta" + "_path")
    finders[:] = [finder for finder in finders if "Block" not in type(finder).__name__]
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


probes = _grader_module("grader.sandbox.torch_probes")
_real_describe = probes.describe if probes else None


def _describe(path, module):
    info = _real_describe(path, module)
    if "bias" in info["settings"]:
        info["settings"]["bias"] = False
    return info


if probes:
    probes.describe = _describe


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        out_channels = out_channels or in_channels
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=True)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=True)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=True),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))
