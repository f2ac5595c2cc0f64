"""The 3x3 convolution has no padding, so each block shrinks the map by 2 before pooling.

The classifier is sized right for blocks that halve the map: the checks on the whole network are judged with
standard blocks standing in, except it_learns, which trains the network as it is (and it cannot run).

expect: fails block_numerics_train block_numerics_eval block_shape it_learns
names: padding
"""
import torch
import torch.nn as nn


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, bias=False)
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
        side = input_size // 8
        self.classifier = nn.Linear(widths[2] * side * side, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


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
