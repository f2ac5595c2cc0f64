"""Model descriptions: the plain-data spec of a torch model, and the model built from it.

Both sides use it: a check builds the reference model it describes, and the child builds the same
model for the student's code (a ModelSpec crossing the protocol). Nothing here runs student code.
"""

from __future__ import annotations

# Layers a spec may name; every one is a stock torch.nn class.
LAYERS = ("Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "ReLU",
          "BatchNorm2d", "Dropout", "Flatten", "Linear", "Identity", "Conv1d", "Sigmoid", "Tanh")


def build_model(spec: dict):
    """Build an nn.Module from {"kind": "Sequential"|"ModuleList"|"ModuleDict"|"Module"|layer, ...}.

    An optional "frozen" list of name prefixes sets requires_grad=False on matching parameters.
    """
    import torch.nn as nn

    kind = spec["kind"]
    children = spec.get("children", [])
    if kind == "Sequential":
        module = nn.Sequential(*[build_model(c) for c in children])
    elif kind == "ModuleList":
        module = nn.ModuleList([build_model(c) for c in children])
    elif kind == "ModuleDict":
        module = nn.ModuleDict({name: build_model(c) for name, c in children})
    elif kind == "Module":  # a custom container: children become attributes, in order
        module = nn.Module()
        for name, c in children:
            setattr(module, name, build_model(c))
    elif kind in LAYERS:
        module = getattr(nn, kind)(*spec.get("args", ()), **spec.get("kwargs", {}))
    else:
        raise ValueError(f"unknown module kind {kind!r}")
    frozen = tuple(spec.get("frozen", ()))
    for name, p in module.named_parameters():
        if frozen and name.startswith(frozen):
            p.requires_grad_(False)
    return module
