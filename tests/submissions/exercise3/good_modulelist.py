"""Blocks in an nn.ModuleList, functional ReLU and pooling, conv with a bias, global average pooling.

expect: full marks
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.c = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm2d(out_channels)

    def forward(self, x):
        x = F.relu(self.norm(self.c(x)))
        return F.max_pool2d(x, 2)


class ThreeBlockCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, widths=(32, 64, 128), input_size=32):
        super().__init__()
        chans = [in_channels, *widths]
        self.stages = nn.ModuleList([ConvBlock(chans[i], chans[i + 1]) for i in range(3)])
        # global average pooling: one number per channel, whatever input_size is
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        for stage in self.stages:
            x = stage(x)
        x = self.gap(x).flatten(1)
        return self.head(x)


def block_shapes(model, x):
    out = []
    for stage in model.stages:
        x = stage(x)
        out.append(tuple(x.shape))
    return out


def count_parameters(model, trainable_only=True):
    params = model.parameters()
    if trainable_only:
        params = [p for p in params if p.requires_grad]
    return sum(p.numel() for p in params)


def mlp_baseline(num_classes=10, in_features=3072, hidden=(512, 256, 128)):
    sizes = [in_features, *hidden]
    mods = [nn.Flatten()]
    for a, b in zip(sizes[:-1], sizes[1:]):
        mods += [nn.Linear(a, b), nn.ReLU()]
    mods.append(nn.Linear(sizes[-1], num_classes))
    return nn.Sequential(*mods)
