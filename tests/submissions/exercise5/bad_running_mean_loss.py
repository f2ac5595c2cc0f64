"""The list of batch losses is made once, before the epochs: each epoch reports the mean since the first epoch.

expect: fails fine_tune_losses
names: since the first epoch
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def replace_head(model, num_classes):
    old = model.fc
    model.fc = nn.Linear(old.in_features, num_classes, device=old.weight.device, dtype=old.weight.dtype)
    return model


def freeze_except(model, trainable=("layer4", "fc")):
    prefixes = (trainable,) if isinstance(trainable, str) else tuple(trainable)
    names = []
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith(prefixes)
        if param.requires_grad:
            names.append(name)
    return names


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)


def fine_tune(model, loader, epochs=1, lr=1e-3, device="cpu"):
    model.to(device)
    optimizer = make_optimizer(model, lr)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d) and not any(p.requires_grad for p in m.parameters()):
            m.eval()
    losses, batch_losses = [], []
    for _ in range(epochs):
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
        losses.append(sum(batch_losses) / len(batch_losses))
    return losses
