"""Reaches torch through importlib.import_module.

exercise: exercise1
statuses: error
passes: none
"""
import importlib

torch = importlib.import_module("torch")


def conv2d(x, weight, bias=None, stride=1, padding=0):
    t = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(weight),
                                   None if bias is None else torch.from_numpy(bias), stride=stride, padding=padding)
    return t[0].numpy()
