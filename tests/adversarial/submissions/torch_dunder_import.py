"""Reaches torch through __import__ and computes the convolution with it.

exercise: exercise1
statuses: error
passes: none
"""
import numpy as np

F = __import__("torch.nn.functional", fromlist=["conv2d"])


def conv2d(x, weight, bias=None, stride=1, padding=0):
    import_torch = __import__("torch")
    t = F.conv2d(import_torch.from_numpy(x)[None], import_torch.from_numpy(weight),
                 None if bias is None else import_torch.from_numpy(bias), stride=stride, padding=padding)
    return t[0].numpy()
