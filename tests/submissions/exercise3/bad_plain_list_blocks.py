"""The blocks are kept in a plain Python list: nn.Module never registers them, so model.parameters(),
model.to(device) and state_dict() all miss them.

expect: fails three_blocks device_agnostic
names: plain python list
"""
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(self.relu(self.bn(self.conv(x))))


class ThreeBlockCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, widths=(32, 64, 128), input_size=32):
        super().__init__()
        channels = [in_channels, *widths]
        self.blocks = [ConvBlock(channels[i], channels[i + 1]) for i in range(3)]
        side = input_size // 8
        self.classifier = nn.Linear(widths[-1] * side * side, num_classes)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.classifier(x.flatten(1))


def block_shapes(model, x):
    shapes = []
    for block in model.blocks:
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
