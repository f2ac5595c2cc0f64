"""layers_of recurses over named_children(); trace is built on conv_output_size.

expect: full marks
"""
import torch.nn as nn

WINDOW_LAYERS = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


def conv_output_size(size, kernel_size, stride=1, padding=0):
    if size < 1 or kernel_size < 1 or stride < 1 or padding < 0:
        raise ValueError("need size >= 1, kernel_size >= 1, stride >= 1, padding >= 0")
    result = (size + 2 * padding - kernel_size) // stride + 1
    if result < 1:
        raise ValueError(f"kernel {kernel_size} is too large for size {size} with padding {padding}")
    return result


def trace(layers, input_size):
    sizes_and_fields = []
    size, field, step = input_size, 1, 1
    for number, (k, s, p) in enumerate(layers):
        try:
            size = conv_output_size(size, k, s, p)
        except ValueError:
            raise ValueError(f"layer {number} (counting from 0) leaves nothing of a {size}x{size} map")
        field = field + (k - 1) * step
        step = step * s
        sizes_and_fields.append((size, field))
    return sizes_and_fields


def receptive_field(layers):
    # each kernel adds (k - 1) times the product of all the strides before it
    total, strides_so_far = 1, 1
    for k, s, _ in layers:
        total += (k - 1) * strides_so_far
        strides_so_far *= s
    return total


def _square(value, name):
    if isinstance(value, str):
        raise ValueError(f"{name}={value!r}: use a number")
    if isinstance(value, (tuple, list)):
        if value[0] != value[1]:
            raise ValueError(f"non-square {name}: {value}")
        return value[0]
    return value


def _collect(module, found):
    if isinstance(module, WINDOW_LAYERS):
        if _square(getattr(module, "dilation", 1), "dilation") != 1:
            raise ValueError("dilation must be 1")
        found.append((_square(module.kernel_size, "kernel_size"),
                      _square(module.stride, "stride"),
                      _square(module.padding, "padding")))
    for _name, child in module.named_children():
        _collect(child, found)


def layers_of(model):
    found = []
    _collect(model, found)
    return found
