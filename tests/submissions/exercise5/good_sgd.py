"""SGD with momentum; fine_tune puts every BatchNorm without a trainable parameter into eval mode.

expect: full marks
"""
import torch
import torch.nn as nn


def replace_head(model, num_classes):
    w = model.fc.weight
    model.fc = nn.Linear(model.fc.in_features, num_classes).to(device=w.device, dtype=w.dtype)
    return model


def freeze_except(model, trainable=("layer4", "fc")):
    if isinstance(trainable, str):
        trainable = [trainable]
    else:
        trainable = list(trainable)
    kept = []
    for name, param in model.named_parameters():
        keep = any(name.startswith(prefix) for prefix in trainable)
        param.requires_grad_(keep)
        if keep:
            kept.append(name)
    return kept


def make_optimizer(model, lr=1e-3):
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def fine_tune(model, loader, epochs=1, lr=1e-3, device="cpu"):
    model = model.to(device)
    opt = make_optimizer(model, lr)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and not any(p.requires_grad for p in m.parameters()):
            m.eval()
    history = []
    for epoch in range(epochs):
        total, batches = 0.0, 0
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
            batches += 1
        history.append(total / batches)
    return history
