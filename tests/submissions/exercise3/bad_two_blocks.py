"""Builds the blocks in a loop that stops one short: only two ConvBlocks.

Everything else is consistent with two blocks (block_shapes reports what they return, the classifier fits).

expect: fails three_blocks
names: three
"""
import torch
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(torch.relu(self.bn(self.conv(x))))


class ThreeBlockCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, widths=(32, 64, 128), input_size=32):
        super().__init__()
        blocks = []
        c, side = in_channels, input_size
        for i in range(len(widths) - 1):
            blocks.append(ConvBlock(c, widths[i]))
            c, side = widths[i], side // 2
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def block_shapes(model, x):
    shapes = []
    for block in model.features:
        x = block(x)
        shapes.append(tuple(x.shape))
    return shapes


def count_parameters(model, trainable_only=True):
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def mlp_baseline(num_classes=10, in_features=3072, hidden=(512, 256, 128)):
    layers, prev = [nn.Flatten()], in_features
    for h in hidden:
        layers += [nn.Linear(prev, h), nn.ReLU()]
        prev = h
    return nn.Sequential(*layers, nn.Linear(prev, num_classes))
