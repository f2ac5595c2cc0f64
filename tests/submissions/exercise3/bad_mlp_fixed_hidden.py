"""mlp_baseline always builds 512-256-128 hidden layers and ignores `hidden`.

expect: fails mlp_baseline
names: hidden
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
        self.features = nn.Sequential(
            ConvBlock(in_channels, widths[0]),
            ConvBlock(widths[0], widths[1]),
            ConvBlock(widths[1], widths[2]),
        )
        s = input_size // 8
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(widths[2] * s * s, num_classes))

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
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(in_features, 512), nn.ReLU(),
        nn.Linear(512, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, num_classes),
    )
