"""Other ways to move things: torch.device objects, `model = model.to(device)`, a comprehension over the batch
with non_blocking=True after a dtype conversion, and a head moved with .to(device=..., dtype=...).

Also averages per sample with len(loader.dataset), so the loader must still look like a DataLoader.

expect: full marks
"""
import torch
from torch import nn


def replace_head(model, num_classes):
    old = model.fc
    model.fc = nn.Linear(old.in_features, num_classes).to(device=old.weight.device, dtype=old.weight.dtype)
    return model


def freeze_except(model, trainable=("layer4", "fc")):
    prefixes = (trainable,) if isinstance(trainable, str) else tuple(trainable)
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith(prefixes))
    return [name for name, param in model.named_parameters() if param.requires_grad]


def make_optimizer(model, lr=1e-3):
    return torch.optim.Adam((p for p in model.parameters() if p.requires_grad), lr=lr)


def fine_tune(model, loader, epochs=1, lr=1e-3, device="cpu"):
    device = torch.device(device)
    model = model.to(device)
    optimizer = make_optimizer(model, lr)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and not any(p.requires_grad for p in m.parameters()):
            m.eval()
    history = []
    for _ in range(epochs):
        total = 0.0
        for batch in loader:
            images, labels = [t.to(device, non_blocking=True) for t in (batch[0].float(), batch[1].long())]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images), labels, reduction="sum")
            (loss / len(labels)).backward()
            optimizer.step()
            total += loss.item()
        history.append(total / len(loader.dataset))
    return history
