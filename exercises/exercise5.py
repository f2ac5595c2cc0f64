"""Exercise 5 -- transfer learning: reuse a pretrained backbone for new classes.

``grader.backbone.pretrained_backbone()`` returns a small ResNet that has
already learned to tell five shapes apart. Its layers know about edges,
corners and strokes, which are just as useful for three shapes it has never
seen. Instead of training a network from scratch on a few dozen pictures of
the new shapes, you keep most of what it learned and retrain only the top:

1. ``replace_head``: swap the old 5-way classifier ``model.fc`` for a fresh
   ``nn.Linear`` with one output per new class.
2. ``freeze_except``: turn off gradients everywhere except in the layers you
   mean to retrain (by default ``layer4`` and ``fc``).
3. ``make_optimizer``: an optimizer that only sees the trainable parameters.
4. ``fine_tune``: the training loop, which must leave the frozen layers --
   their weights *and* their BatchNorm running statistics -- exactly as they
   were.

How to work on it
-----------------
* Replace each ``raise NotImplementedError`` line with your code. Keep the
  function names and signatures; helper functions are up to you.
* ``python exercises/exercise5.py`` fine-tunes the pretrained backbone on the
  new classes and prints the loss of every epoch and the validation accuracy.
* ``cnn-grade exercise5`` runs the hidden checks and explains what went wrong.

Things to keep in mind
----------------------
* Parameter names look like ``layer4.0.conv1.weight`` and ``fc.bias``: a
  parameter belongs to a layer when its name starts with the layer's name.
* ``model.train()`` switches *every* BatchNorm layer to train mode, frozen or
  not, and a BatchNorm in train mode updates its running statistics on every
  batch. ``requires_grad=False`` does not stop that.
* Work on whatever device you are given: nothing here should assume the CPU,
  float32 or a particular layer width.
"""

import torch
from torch import nn


def replace_head(model, num_classes):
    """Give ``model`` a new classifier with ``num_classes`` outputs and return ``model``.

    The new head is ``nn.Linear(model.fc.in_features, num_classes)``, freshly
    initialised, on the same device and with the same dtype as the old one,
    and it replaces ``model.fc``.
    """
    raise NotImplementedError


def freeze_except(model, trainable=("layer4", "fc")):
    """Freeze every parameter of ``model`` except those under the ``trainable`` prefixes.

    A parameter stays trainable (``requires_grad=True``) when its name, as
    given by ``model.named_parameters()``, starts with one of the prefixes;
    every other parameter gets ``requires_grad=False``. ``trainable`` is any
    iterable of strings, or a single string meaning one prefix. Parameters
    frozen by an earlier call are unfrozen again if they now match.

    Returns the names of the trainable parameters, in ``named_parameters()`` order.
    """
    raise NotImplementedError


def make_optimizer(model, lr=1e-3):
    """An optimizer over the trainable parameters of ``model`` only.

    Which optimizer is up to you; its parameter groups must hold every
    parameter with ``requires_grad=True`` once and no frozen parameter.
    """
    raise NotImplementedError


def fine_tune(model, loader, epochs=1, lr=1e-3, device="cpu"):
    """Train ``model`` with cross-entropy on ``loader`` and return one mean loss per epoch.

    ``loader`` yields ``(images, labels)`` batches. The model and every batch
    go to ``device``; the optimizer comes from ``make_optimizer(model, lr)``.
    The model trains in train mode, except that each BatchNorm layer whose
    parameters are all frozen stays in eval mode, so that its running
    statistics are exactly the same afterwards.

    Returns a list of ``epochs`` Python floats: each epoch's mean batch loss.
    """
    raise NotImplementedError


if __name__ == "__main__":
    # No SystemExit in here: in the notebook this block is a cell, and SystemExit there stops "Run All".
    from torch.utils.data import DataLoader, TensorDataset

    try:
        from grader.backbone import pretrained_backbone, target_split
    except ImportError:
        print("grader.backbone is not available: install the course package (pip install -e .)")
    else:
        torch.manual_seed(0)
        train_x, train_y, val_x, val_y = (torch.as_tensor(a) for a in target_split())
        num_classes = int(train_y.max()) + 1
        loader = DataLoader(TensorDataset(train_x, train_y), batch_size=16, shuffle=True)
        try:
            model = replace_head(pretrained_backbone(), num_classes)
            names = freeze_except(model)
            total = sum(p.numel() for p in model.parameters())
            kept = sum(p.numel() for p in model.parameters() if p.requires_grad)
            print(f"trainable: {len(names)} tensors, {kept} of {total} numbers")
            losses = fine_tune(model, loader, epochs=8)
        except NotImplementedError:
            print("not implemented yet")
        else:
            print("mean loss per epoch:", " ".join(f"{loss:.3f}" for loss in losses))
            model.eval()
            with torch.no_grad():
                accuracy = (model(val_x).argmax(dim=1) == val_y).float().mean().item()
            print(f"validation accuracy on the {num_classes} new classes: {accuracy:.2f} "
                  f"(chance: {1 / num_classes:.2f}; {len(train_y)} training images)")
