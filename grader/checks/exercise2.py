"""Exercise 2: output sizes and receptive fields, judged against real layers and autograd."""

from __future__ import annotations

import re

from ..grading import references as ref
from ..errors import CheckFailed
from ..grading.registry import check
from ..grading.results import Fields, Table
from ..sandbox.protocol import ModelSpec

# Stacks of (kernel, stride, padding) with an input size that keeps every output non-empty.
COURSE_CNN = [(3, 1, 1), (2, 2, 0)] * 3  # the 3-block CNN: conv 3x3 pad 1, maxpool 2, three times
STACKS = [
    (COURSE_CNN, 32),
    ([(7, 2, 3), (3, 2, 1), (3, 1, 1), (3, 1, 1), (3, 2, 1), (3, 1, 1)], 224),  # a ResNet stem and more
    ([(5, 1, 0), (2, 2, 0), (5, 1, 0), (2, 2, 0)], 32),  # LeNet-like, no padding
    ([(3, 2, 0), (3, 2, 0), (3, 2, 0)], 31),  # strides that compound
    ([(1, 2, 0), (3, 1, 1), (4, 3, 2)], 20),  # a 1x1 stride-2 layer: the jump matters, the kernel doesn't
]


def stacks(rng) -> list:
    """The fixed stacks plus three drawn from the check's seeded stream (nothing to hard-code)."""
    drawn = []
    while len(drawn) < 3:
        layers = [(k, int(rng.integers(1, 4)), int(rng.integers(0, k // 2 + 1)))
                  for k in (int(v) for v in rng.integers(1, 6, size=int(rng.integers(2, 7))))]
        size = int(rng.integers(16, 80))
        if None not in ref.trace_sizes(layers, size):
            drawn.append((layers, size))
    return STACKS + drawn


def as_int(value, what: str) -> int:
    """An integer result, or feedback that names what came back (a float from `/`, say)."""
    if type(value) is int or (hasattr(value, "dtype") and getattr(value, "dtype").kind in "iu" and not isinstance(value, bool)):
        return int(value)
    if isinstance(value, float):
        raise CheckFailed(f"{what} returned the float {value!r}; expected an int.",
                          "Use floor division `//`: `/` gives a float, and rounds nothing down.",
                          diagnosis="float_division")
    raise CheckFailed(f"{what} returned {type(value).__name__} {value!r:.80}; expected an int.")


def pairs(value, what: str, n: int) -> list[tuple[int, int]]:
    """A list of n (size, receptive field) pairs, or feedback about its shape."""
    if not isinstance(value, (list, tuple)) or len(value) != n:
        got = f"{len(value)} items" if isinstance(value, (list, tuple)) else type(value).__name__
        raise CheckFailed(f"{what} returned {got}; expected a list of {n} (output_size, receptive_field) pairs, one per layer.")
    out = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise CheckFailed(f"{what} returned an item {item!r:.60}; expected an (output_size, receptive_field) pair.")
        out.append((as_int(item[0], what), as_int(item[1], what)))
    return out


def size_hint(layer: tuple, size: int, got: int) -> tuple[str, str]:
    """Name the output-size slip (ceil for floor, a missing + 1, padding counted once): (hint, diagnosis id)."""
    k, s, p = layer
    n = size + 2 * p - k
    formula = ref.formula(size, k, s, p, "size")
    if got == -(-n // s) + 1:
        return f"You rounded up; PyTorch rounds down (floor division). {formula}.", "ceil_not_floor"
    if got == n // s:
        return (f"Missing the + 1 of the output size: the first window position counts too. {formula}.",
                "missing_plus_one")
    if got == (size + p - k) // s + 1:
        return f"Padding goes on both sides: 2·p. {formula}.", "padding_one_side"
    return f"The output size follows {formula}.", ""


def rf_hint(layers, got: int, want: int) -> tuple[str, str]:
    """Name the receptive-field misconception that produces the student's number: (hint, diagnosis id)."""
    if got == 1 + sum(k - 1 for k, _, _ in layers):
        return ("That is the receptive field with every stride ignored. After a stride-s layer, one step in the "
                "next map is s steps in the input: keep a running 'jump' (product of earlier strides) and grow the "
                "field by (k - 1) × jump.", "jump_ignored")
    if got in (sum(k for k, _, _ in layers), max(k for k, _, _ in layers) * len(layers)):
        return ("That is kernel size × depth. Stacked kernels overlap: each layer adds (k - 1) × jump pixels, "
                "where jump is the product of the strides before it.", "kernel_times_depth")
    if any(p for _, _, p in layers) and got - want in (sum(p for _, _, p in layers), 2 * sum(p for _, _, p in layers)):
        return ("Padding does not widen the receptive field: it adds zeros at the border, not new input pixels.",
                "padding_widens_field")
    return "Grow the field by (k - 1) × jump per layer, where jump is the product of the strides before it.", ""


# What each receptive-field diagnosis looks like on the input grid: the caption under the fields.
FIELD_CAPTIONS = {
    "jump_ignored": "Your fields grow by k - 1 per layer and fall behind after each stride: the jump is ignored.",
    "kernel_times_depth": "Your fields add whole kernels: stacked windows overlap, so each layer adds (k - 1) × jump.",
    "padding_widens_field": "Your fields grow with the padding: padding adds zeros, not input pixels.",
    "": "Your receptive field against the one autograd measures, layer by layer.",
}


def fields_figure(layers, size: int, got: list[int], want: list[int], diagnosis: str) -> Fields:
    """Each layer's receptive field on the input grid: the student's against the one autograd measures."""
    return Fields(f"receptive fields on a {size}x{size} input", size,
                  tuple((f"{i} {tuple(l)}", int(g), int(w)) for i, (l, g, w) in enumerate(zip(layers, got, want))),
                  FIELD_CAPTIONS[diagnosis])


def layer_table(layers, rows) -> Table:
    return Table("per layer", ("layer", "(k, s, p)", "yours", "expected"),
                 tuple((str(i), str(l), str(a), str(b)) for i, (l, (a, b)) in enumerate(zip(layers, rows))))


# --- conv_output_size ------------------------------------------------------------------------
@check(points=2, title="conv_output_size matches the sizes nn.Conv2d produces")
def output_size_grid(ctx):
    cases = [(32, 3, 1, 1), (32, 2, 2, 0), (7, 3, 2, 0), (8, 3, 2, 1), (224, 7, 2, 3), (5, 5, 1, 0), (10, 4, 3, 1)]
    while len(cases) < 30:
        size, k, s, p = (int(v) for v in (ctx.rng.integers(1, 40), ctx.rng.integers(1, 8), ctx.rng.integers(1, 5),
                                          ctx.rng.integers(0, 4)))
        if size + 2 * p >= k:
            cases.append((size, k, s, p))
    for size, k, s, p in cases:
        got = as_int(ctx.call("conv_output_size", size, k, s, p), "conv_output_size")
        want = ref.output_size(size, k, s, p)
        if got != want:
            hint, diagnosis = size_hint((k, s, p), size, got)
            raise CheckFailed(f"conv_output_size({size}, kernel_size={k}, stride={s}, padding={p}) returned {got}; "
                              f"nn.Conv2d gives {want}.", hint, diagnosis=diagnosis)


@check(points=1, title="conv_output_size raises ValueError for empty outputs and out-of-range arguments")
def output_size_errors(ctx):
    # Only refusals: whether a kernel as wide as the input gives 1 is the size formula's business (the grid).
    for args, why in [((2, 5, 1, 0), "a 5-wide kernel on 2 pixels"), ((0, 3, 1, 1), "size 0"),
                      ((8, 0, 1, 0), "kernel_size 0"), ((8, 3, 0, 0), "stride 0"), ((8, 3, 1, -1), "padding -1")]:
        ctx.expect_value_error("conv_output_size", f"{why} {args}", *args)


# --- trace and receptive_field ------------------------------------------------------------------
def student_trace(ctx, layers, size):
    return pairs(ctx.call("trace", [tuple(l) for l in layers], size), "trace", len(layers))


@check(points=2, title="trace gives the output size real layers produce, layer by layer")
def trace_sizes(ctx):
    for layers, size in stacks(ctx.rng):
        got = student_trace(ctx, layers, size)
        want = ref.trace_sizes(layers, size)
        for i, ((g, _), w) in enumerate(zip(got, want)):
            if g != w:
                before = size if i == 0 else want[i - 1]
                hint, diagnosis = size_hint(layers[i], before, g)
                raise CheckFailed(f"trace({layers}, {size}): layer {i} {layers[i]} gives size {g}; expected {w}.",
                                  hint, (layer_table(layers, [(a, b) for (a, _), b in zip(got, want)]),),
                                  diagnosis=diagnosis)


@check(points=2, title="trace gives the receptive field autograd measures, layer by layer")
def trace_receptive_fields(ctx):
    for layers, drawn_size in stacks(ctx.rng):
        size = drawn_size * 16  # fields do not depend on the size; a large input keeps a wrong size formula out
        got = student_trace(ctx, layers, size)
        want = ref.receptive_fields(layers)
        for i, ((_, g), w) in enumerate(zip(got, want)):
            if g != w:
                hint, diagnosis = rf_hint(layers[: i + 1], g, w)
                fields = [b for _, b in got]
                # The fields are drawn on the stack's own input, the one it was designed for.
                raise CheckFailed(f"trace({layers}, {size}): after layer {i} your receptive field is {g}; "
                                  f"the gradient of one unit reaches {w} input pixels.", hint,
                                  (layer_table(layers, [(b, c) for b, c in zip(fields, want)]),
                                   fields_figure(layers, drawn_size, fields, want, diagnosis)),
                                  diagnosis=diagnosis)


@check(points=1, title="trace raises ValueError naming the layer whose output is empty")
def trace_errors(ctx):
    # Stacks whose failing layer stays the same under the usual size mistakes (a missing + 1, ceil for
    # floor): this check judges the message, and a wrong size formula is the size checks' business.
    for layers, size, index in [([(3, 1, 0), (3, 2, 0), (9, 1, 0)], 12, 2), ([(9, 1, 0)], 4, 0),
                                ([(3, 1, 1), (2, 2, 0), (2, 2, 0), (7, 1, 0)], 16, 3)]:
        message = ctx.expect_value_error("trace", f"{layers} on a {size}x{size} input", [tuple(l) for l in layers], size)
        numbers = set(re.findall(r"\d+", message))
        if not numbers & {str(index), str(index + 1)}:
            raise CheckFailed(f"trace raised ValueError({message[:200]!r}), which does not say which layer failed "
                              f"(layer {index} counting from 0, {index + 1} from 1).",
                              "Put the layer's index in the message: students debugging a 20-layer stack need it.",
                              diagnosis="layer_not_named")


@check(points=2, title="receptive_field gives the last layer's field, and 1 for no layers")
def receptive_field(ctx):
    got = as_int(ctx.call("receptive_field", []), "receptive_field")
    if got != 1:
        raise CheckFailed(f"receptive_field([]), an empty stack, returned {got}; expected 1.",
                          "With no layers, each 'unit' is one input pixel: its receptive field is 1.",
                          diagnosis="field_starts_at_zero" if got == 0 else "")
    for layers, _ in stacks(ctx.rng):
        got = as_int(ctx.call("receptive_field", [tuple(l) for l in layers]), "receptive_field")
        want = ref.receptive_fields(layers)[-1]
        if got != want:
            hint, diagnosis = rf_hint(layers, got, want)
            raise CheckFailed(f"receptive_field({layers}) returned {got}; autograd measures {want}.", hint,
                              diagnosis=diagnosis)


# --- layers_of ---------------------------------------------------------------------------------
def layer(kind: str, *args, **kwargs) -> dict:
    return {"kind": kind, "args": list(args), "kwargs": kwargs}


def seq(*children) -> dict:
    return {"kind": "Sequential", "children": list(children)}


def expected_layers(spec: dict, walk: str = "modules") -> list[tuple[int, int, int]]:
    """The reference: build the model here and read its layers in registration order.

    walk="children" gives what a walk over the direct children alone finds (a known mistake).
    """
    import torch.nn as nn

    from ..sandbox.models import build_model

    out = []
    for m in getattr(build_model(spec), walk)():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p = (ref.pair(v)[0] for v in (m.kernel_size, m.stride, m.padding))
            out.append((k, s, p))
    return out


def expect_layers(ctx, spec: dict, what: str) -> None:
    got = ctx.call("layers_of", ModelSpec(spec))
    want = expected_layers(spec)
    if not isinstance(got, (list, tuple)):
        raise CheckFailed(f"layers_of({what}) returned {type(got).__name__}; expected a list of (kernel, stride, padding).")
    got = [tuple(as_int(v, "layers_of") for v in item) if isinstance(item, (list, tuple)) else item for item in got]
    if got != want:
        hint = "Walk every submodule (model.modules() visits nested containers in registration order)."
        diagnosis = "children_not_modules" if got == expected_layers(spec, "children") else "layers_missed"
        if len(got) > len(want):
            hint = ("Keep only nn.Conv2d, nn.MaxPool2d and nn.AvgPool2d (isinstance); other modules, "
                    "AdaptiveAvgPool2d included, have no (kernel, stride, padding) to trace.")
            diagnosis = "other_modules_kept"
        elif len(got) == len(want):
            hint = "Right layers, wrong numbers: pools keep plain ints and their stride defaults to the kernel size."
            diagnosis = "layer_numbers_wrong"
        raise CheckFailed(f"layers_of({what}) returned {got}; expected {want}.", hint, diagnosis=diagnosis)


@check(points=1, title="layers_of lists a Sequential's convolutions and pools in order")
def layers_of_sequential(ctx):
    spec = seq(layer("Conv2d", 3, 8, 3, padding=1), layer("ReLU"), layer("MaxPool2d", 2),
               layer("Conv2d", 8, 16, 5, stride=2, padding=2), layer("AvgPool2d", 3, stride=1, padding=1))
    expect_layers(ctx, spec, "a Sequential of conv, ReLU, max pool, conv, avg pool")


@check(points=2, title="layers_of walks nested containers and skips other modules")
def layers_of_nested(ctx):
    spec = {"kind": "Module", "children": [
        ["stem", seq(layer("Conv2d", 3, 16, 7, stride=2, padding=3), layer("BatchNorm2d", 16), layer("ReLU"),
                     layer("MaxPool2d", kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)))],
        ["blocks", {"kind": "ModuleList", "children": [
            seq(layer("Conv2d", 16, 16, 3, padding=1, bias=False), layer("BatchNorm2d", 16), layer("ReLU")),
            seq(layer("Conv2d", 16, 32, (3, 3), stride=(2, 2), padding=(1, 1)), layer("Dropout", 0.1)),
            layer("MaxPool2d", 2)]}],
        ["pool", layer("AvgPool2d", (2, 2))],
        ["head", {"kind": "ModuleDict", "children": [["gap", layer("AdaptiveAvgPool2d", 1)], ["flat", layer("Flatten")],
                                                      ["fc", layer("Linear", 32, 10)]]}],
    ]}
    expect_layers(ctx, spec, "a model with a stem, a ModuleList of blocks, a pool and a ModuleDict head")


@check(points=1, title="layers_of raises ValueError for non-square, 'same' padding or dilation")
def layers_of_errors(ctx):
    expect_layers(ctx, seq(layer("Conv2d", 1, 2, (3, 3), stride=(2, 2)), layer("MaxPool2d", 2, dilation=1)),
                  "square layers written as tuples")
    for spec, why in [(layer("Conv2d", 1, 2, (3, 5)), "a 3x5 kernel"),
                      (layer("Conv2d", 1, 2, 3, stride=(1, 2)), "stride (1, 2)"),
                      (layer("Conv2d", 1, 2, 3, padding=(0, 1)), "padding (0, 1)"),
                      (layer("Conv2d", 1, 2, 3, padding="same"), "padding='same'"),
                      (layer("Conv2d", 1, 2, 3, dilation=2), "dilation 2"),
                      (layer("MaxPool2d", 3, dilation=2), "a max pool with dilation 2")]:
        ctx.expect_value_error("layers_of", f"a model holding a layer with {why}", ModelSpec(seq(spec)))
