"""A block with biased convolutions that finds the grader's layer description through the garbage collector.

exercise: exercise4
statuses: passed failed
passes: output_shapes numerics_train numerics_eval skip_connection projection_when_needed relu_after_add
note: a correct block apart from the bias; no_conv_bias must not pass
"""
import gc

import torch.nn as nn
import torch.nn.functional as F


def _patch():
    for namespace in gc.get_objects():
        if isinstance(namespace, dict) and "describe" in namespace and "PROBES" in namespace:
            real = namespace["describe"]

            def hiding(path, module, real=real):
                info = real(path, module)
                if "bias" in info.get("settings", {}):
                    info["settings"]["bias"] = False
                return info

            namespace["describe"] = hiding


_patch()


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
