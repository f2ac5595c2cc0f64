"""Exercise 3 -- a small convolutional network for 32x32 RGB images.

You will build the classic pattern "convolution, normalise, activate, pool",
stack three of these blocks, put a fully connected classifier on top, and then
compare the network with a plain multi-layer perceptron that sees the same
pixels as one long vector.

How to work on it
-----------------
* Replace each ``raise NotImplementedError`` line with your code. Keep the
  names and signatures; attribute names, containers and helper functions are
  up to you. In the two classes, keep the ``super().__init__()`` line first.
* ``python exercises/exercise3.py`` prints the shape after each block and
  the parameter counts, and trains the network for a moment when the course's
  shapes dataset is installed.
* ``cnn-grade exercise3`` runs the hidden checks and explains what went wrong.

Things to keep in mind
----------------------
* ``forward`` returns raw scores (logits); ``nn.CrossEntropyLoss`` applies
  the softmax itself.
* The classifier's input size must follow from ``widths`` and ``input_size``:
  the grader builds the network with other widths, channel counts and sizes.
* Never move anything to a device yourself and never name one: whoever
  uses the model decides where it runs, with ``model.to(...)``.
"""

import torch
from torch import nn


class ConvBlock(nn.Module):
    """Conv2d(3x3, padding 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2).

    Maps ``(N, in_channels, H, W)`` to ``(N, out_channels, H // 2, W // 2)``:
    the padded convolution keeps the spatial size, the pooling halves it
    (rounding down).
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


class ThreeBlockCNN(nn.Module):
    """Three ConvBlocks followed by a fully connected classifier.

    Parameters
    ----------
    num_classes : int
        Number of scores ``forward`` returns per image.
    in_channels : int
        Channels of the input images (3 for RGB, 1 for greyscale).
    widths : sequence of three ints
        Output channels of the first, second and third block.
    input_size : int
        Side of the square input images; any value from 8 up works.

    ``forward`` maps ``(N, in_channels, input_size, input_size)`` to logits of
    shape ``(N, num_classes)`` -- raw scores, no softmax.
    """

    def __init__(self, num_classes=10, in_channels=3, widths=(32, 64, 128), input_size=32):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


def block_shapes(model, x) -> list[tuple[int, ...]]:
    """Run ``x`` through the three ConvBlocks of ``model`` and record the shapes.

    Returns one ``tuple`` per block, in order: the shape of that block's
    output, e.g. ``[(N, 32, 16, 16), (N, 64, 8, 8), (N, 128, 4, 4)]`` for the
    default network and a batch of 32x32 images. The classifier is not run.
    """
    raise NotImplementedError


def count_parameters(model, trainable_only=True) -> int:
    """Number of scalar parameters in ``model``.

    With ``trainable_only=True`` only parameters with ``requires_grad`` count;
    with ``False`` every parameter does, frozen ones included. Buffers (such
    as BatchNorm's running statistics) are not parameters.
    """
    raise NotImplementedError


def mlp_baseline(num_classes=10, in_features=3072, hidden=(512, 256, 128)) -> nn.Module:
    """A fully connected network for the same task, as a point of comparison.

    Flatten, then one ``Linear`` + ``ReLU`` per entry of ``hidden`` (in that
    order), then a ``Linear`` to ``num_classes`` logits. With the defaults it
    reads a flattened 3x32x32 image.
    """
    raise NotImplementedError


def _train_demo(train, val, steps=150, batch_size=64):
    """A short Adam run of a narrow ThreeBlockCNN on the shapes dataset."""
    train_x, train_y = (torch.as_tensor(a) for a in train)
    val_x, val_y = (torch.as_tensor(a) for a in val)
    num_classes = int(train_y.max()) + 1
    torch.manual_seed(0)
    model = ThreeBlockCNN(num_classes=num_classes, in_channels=train_x.shape[1],
                          widths=(8, 16, 32), input_size=train_x.shape[-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    model.train()
    for step in range(steps):
        index = torch.randint(len(train_x), (batch_size,), generator=generator)
        loss = loss_fn(model(train_x[index]), train_y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"  step {step:>3}  loss {loss.item():.3f}")
    model.eval()
    with torch.no_grad():
        accuracy = (model(val_x).argmax(dim=1) == val_y).float().mean().item()
    print(f"validation accuracy after {steps} steps: {accuracy:.1%} "
          f"(chance is {1 / num_classes:.1%})")


if __name__ == "__main__":
    torch.manual_seed(0)
    images = torch.randn(2, 3, 32, 32)

    try:
        cnn = ThreeBlockCNN()
        shapes = block_shapes(cnn, images)
        scores = cnn(images)
    except NotImplementedError:
        print("ThreeBlockCNN / block_shapes: not implemented yet")
        cnn = None
    else:
        print("input", tuple(images.shape))
        for index, shape in enumerate(shapes, start=1):
            print(f"  after block {index}: {shape}")
        print("expected (2, 32, 16, 16), (2, 64, 8, 8), (2, 128, 4, 4)")
        print("logits", tuple(scores.shape), "(expected (2, 10))")

    try:
        mlp = mlp_baseline()
        cnn_params = count_parameters(cnn) if cnn is not None else None
        mlp_params = count_parameters(mlp)
    except NotImplementedError:
        print("mlp_baseline / count_parameters: not implemented yet")
    else:
        if cnn_params is not None:
            convs = sum(count_parameters(m) for m in cnn.modules() if isinstance(m, ConvBlock))
            print(f"CNN: {cnn_params:>9,} parameters, of which {convs:,} in the three blocks")
        print(f"MLP: {mlp_params:>9,} parameters (its first layer alone: 3072 x 512 weights)")

    try:
        from grader.data import DataError, load_shapes
    except ImportError:
        print("(the shapes dataset is not installed: training demo skipped)")
    else:
        try:
            train, val = load_shapes("train"), load_shapes("val")
        except DataError as err:
            print(f"(training demo skipped: {err})")
        else:
            print("training ThreeBlockCNN(widths=(8, 16, 32)) on the shapes dataset:")
            try:
                _train_demo(train, val)
            except NotImplementedError:
                print("training demo: not implemented yet")
