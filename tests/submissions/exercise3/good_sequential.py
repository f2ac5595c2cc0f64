"""Blocks in one nn.Sequential; the classifier is a single Linear after Flatten.

expect: full marks
"""
import torch
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )

    def forward(self, x):
        return self.layers(x)


class ThreeBlockCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, widths=(32, 64, 128), input_size=32):
        super().__init__()
        self.features = nn.Sequential(
            ConvBlock(in_channels, widths[0]),
            ConvBlock(widths[0], widths[1]),
            ConvBlock(widths[1], widths[2]),
        )
        side = input_size // 2 // 2 // 2
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(widths[2] * side * side, num_classes),
        )

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x)


def block_shapes(model, x):
    shapes = []
    with torch.no_grad():
        for block in model.features:
            x = block(x)
            shapes.append(tuple(x.shape))
    return shapes


def count_parameters(model, trainable_only=True):
    total = 0
    for p in model.parameters():
        if trainable_only and not p.requires_grad:
            continue
        total += p.numel()
    return total


def mlp_baseline(num_classes=10, in_features=3072, hidden=(512, 256, 128)):
    layers = [nn.Flatten()]
    size = in_features
    for h in hidden:
        layers.append(nn.Linear(size, h))
        layers.append(nn.ReLU())
        size = h
    layers.append(nn.Linear(size, num_classes))
    return nn.Sequential(*layers)
