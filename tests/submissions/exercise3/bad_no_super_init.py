"""ThreeBlockCNN.__init__ forgets super().__init__(): its first layer assignment raises
"cannot assign module before Module.__init__() call". ConvBlock is right, and so is everything else.

expect: fails three_blocks logits_shape logits_not_probabilities batch_of_one block_shapes device_agnostic it_learns
names: super().__init__()
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
        blocks = []
        c, side = in_channels, input_size
        for width in widths:
            blocks.append(ConvBlock(c, width))
            c, side = width, side // 2
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
