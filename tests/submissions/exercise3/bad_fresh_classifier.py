"""forward builds a new nn.Linear on every call: the optimizer never sees it, so it never learns, and it is
created on the CPU wherever the model was moved (on a GPU the forward fails).

expect: fails device_agnostic it_learns
names: accuracy
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
        self.num_classes = num_classes
        self.features = nn.Sequential(
            ConvBlock(in_channels, widths[0]),
            ConvBlock(widths[0], widths[1]),
            ConvBlock(widths[1], widths[2]),
        )

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        fc = nn.Linear(x.shape[1], self.num_classes)  # sized to whatever comes in
        return fc(x)


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
