"""The classifier is Linear(128 * 4 * 4, num_classes), right only for the default widths and 32x32 input.

expect: fails logits_shape it_learns
names: hard-coded
"""
import torch
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        return self.pool(self.relu(self.bn(self.conv(x))))


class ThreeBlockCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, widths=(32, 64, 128), input_size=32):
        super().__init__()
        self.block1 = ConvBlock(in_channels, widths[0])
        self.block2 = ConvBlock(widths[0], widths[1])
        self.block3 = ConvBlock(widths[1], widths[2])
        self.fc = nn.Linear(128 * 4 * 4, num_classes)  # 32 -> 16 -> 8 -> 4

    def forward(self, x):
        x = self.block3(self.block2(self.block1(x)))
        x = x.view(x.size(0), -1)
        return self.fc(x)


def block_shapes(model, x):
    shapes = []
    for block in (model.block1, model.block2, model.block3):
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
