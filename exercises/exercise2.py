"""Exercise 2 -- output sizes and receptive fields of a stack of layers.

Every convolution and every pooling window is described here by the same
three integers, a *layer* ``(kernel_size, stride, padding)``. From a list of
layers you will compute how large each feature map is and how many input
pixels (along one side) a single unit of each map can see.

How to work on it
-----------------
* Replace each ``raise NotImplementedError`` line with your code. Helper
  functions of your own are welcome; keep the four names and signatures.
* ``python exercises/exercise2.py`` traces the course's 3-block CNN and
  compares your numbers with the shapes PyTorch produces.
* ``cnn-grade exercise2`` runs the hidden checks and explains what went wrong.

Hint: besides the receptive field, keep track of the *jump* -- the distance,
in input pixels, between two neighbouring units of the current feature map.
"""

import operator

from torch import nn


def conv_output_size(size, kernel_size, stride=1, padding=0) -> int:
    """Side length of the output of one layer, for a square input of side ``size``.

    Uses PyTorch's floor rule: ``(size + 2*padding - kernel_size) // stride + 1``.

    Raises ``ValueError`` when an argument is out of range (``size >= 1``,
    ``kernel_size >= 1``, ``stride >= 1`` and ``padding >= 0`` are required)
    or when the result would be smaller than 1.
    """
    raise NotImplementedError


def trace(layers, input_size) -> list[tuple[int, int]]:
    """Follow a square input of side ``input_size`` through ``layers``.

    ``layers`` is a sequence of ``(kernel_size, stride, padding)``. Returns
    one ``(output_size, receptive_field)`` pair per layer, in order: the side
    of that layer's output and the receptive field (in input pixels, one
    side) of one of its units. An empty ``layers`` gives ``[]``.

    Raises ``ValueError`` when some layer's output would be empty; the
    message says which layer (its position in ``layers``).
    """
    raise NotImplementedError


def receptive_field(layers) -> int:
    """Receptive field, in input pixels along one side, of a unit of the last layer.

    ``layers`` is a sequence of ``(kernel_size, stride, padding)``; padding
    moves the window but does not change its extent. With no layers at all a
    unit is just one input pixel, so ``receptive_field([]) == 1``.
    """
    raise NotImplementedError


def layers_of(model) -> list[tuple[int, int, int]]:
    """The ``(kernel_size, stride, padding)`` of each window layer of a PyTorch model.

    Walks every submodule of ``model`` (``model`` itself included) in the order
    they were registered, including those inside nested containers and custom
    modules, and keeps every ``nn.Conv2d``, ``nn.MaxPool2d`` and ``nn.AvgPool2d``.
    Everything else (activations, normalisation, linear layers, adaptive
    pooling, ...) is skipped. Values stored as ints or as pairs both work.

    Raises ``ValueError`` if a kept layer has a kernel, stride or padding that
    differs between height and width, a string padding such as ``'same'``,
    or a dilation other than 1.
    """
    raise NotImplementedError


if __name__ == "__main__":
    import torch

    # The course's 3-block CNN, reduced to its window layers:
    # three times [3x3 convolution with padding 1, then 2x2 max pooling].
    model = nn.Sequential(
        *[
            nn.Sequential(
                nn.Conv2d(c_in, c_out, kernel_size=3, padding=1),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )
            for c_in, c_out in [(3, 32), (32, 64), (64, 128)]
        ]
    )
    fallback = [(3, 1, 1), (2, 2, 0)] * 3

    try:
        layers = layers_of(model)
    except NotImplementedError:
        print("layers_of: not implemented yet; using the hand-written list")
        layers = fallback
    print("layers:", layers)

    # What PyTorch itself produces, layer by layer, for a 32x32 RGB image.
    torch_sizes = []
    with torch.no_grad():
        h = torch.zeros(1, 3, 32, 32)
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
                h = module(h)
                torch_sizes.append(h.shape[-1])

    try:
        rows = trace(layers, 32)
    except NotImplementedError:
        print("trace: not implemented yet")
    else:
        print(f"{'layer':>5}  {'(k, s, p)':<10} {'size':>4} {'torch':>5} {'RF':>4}")
        for index, (layer, (size, rf), real) in enumerate(zip(layers, rows, torch_sizes)):
            flag = "" if size == real else "  <-- differs from PyTorch"
            print(f"{index:>5}  {str(layer):<10} {size:>4} {real:>5} {rf:>4}{flag}")
        print("expected sizes 32 16 16 8 8 4 and receptive fields 3 4 8 10 18 22")

    try:
        print("receptive_field(layers) =", receptive_field(layers), "(expected 22)")
        print("receptive_field([]) =", receptive_field([]), "(expected 1)")
    except NotImplementedError:
        print("receptive_field: not implemented yet")
