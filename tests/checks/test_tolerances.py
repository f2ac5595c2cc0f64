"""compare.TOLERANCES holds what its comments claim: right blocks pass on a GPU, every named wrong block fails.

No GPU is needed: cuDNN's TF32 convolutions are emulated by cutting float32 operands to TF32's 10 mantissa
bits (truncation, the worse of the two roundings) before an exact convolution, with the float32 result kept.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.grading import references as ref
from grader.grading.compare import TOLERANCES, close, largest_error, relative_tolerance
from grader.checks.exercise4 import VARIANTS as BLOCK_VARIANTS

CONV_BLOCK_VARIANTS = (dict(padding=0), dict(order="conv relu bn pool"), dict(order="conv pool bn relu"),
                       dict(order="conv bn pool"), dict(pool="avg"))  # those of grader.checks.exercise3
SEEDS = range(20)
conv_exact = ref.conv


def tf32(t: torch.Tensor) -> torch.Tensor:
    """float32 values with the 13 low mantissa bits dropped: what a TF32 tensor core multiplies."""
    return (t.float().contiguous().view(torch.int32) & ~0x1FFF).view(torch.float32)


def tf32_conv(x, layer, *, stride=1, padding=0):
    """grader.grading.references.conv as cuDNN computes it in TF32: rounded operands, float32 result."""
    w = torch.as_tensor(np.asarray(layer["tensors"]["weight"]))
    y = F.conv2d(tf32(x).double(), tf32(w).double(), stride=stride, padding=padding)
    return y.float().double()


def float32_conv(x, layer, *, stride=1, padding=0):
    w = torch.as_tensor(np.asarray(layer["tensors"]["weight"])).float()
    return F.conv2d(x.float(), w, stride=stride, padding=padding).double()


def conv(c_in, c_out, k):
    return {"tensors": {"weight": nn.Conv2d(c_in, c_out, k, bias=False).weight.detach().numpy().copy()},
            "settings": {}}


def bn(n, gen):
    """A BatchNorm as the `prepare` probe leaves it: random affine weights and running statistics."""
    t = {"weight": torch.rand(n, generator=gen) + 0.5, "bias": torch.randn(n, generator=gen) * 0.5,
         "running_mean": torch.randn(n, generator=gen) * 0.5, "running_var": torch.rand(n, generator=gen) + 0.5}
    return {"tensors": {k: v.numpy() for k, v in t.items()}, "settings": {"eps": 1e-5}}


def cases():
    """(right output function, [wrong output functions], x) for exercise 3's block and exercise 4's two blocks."""
    for seed in SEEDS:
        torch.manual_seed(seed)
        gen, rng = torch.Generator().manual_seed(seed), np.random.default_rng(seed)
        for train in (True, False):
            x = rng.standard_normal((4, 3, 10, 10)).astype(np.float32)
            c, b = conv(3, 8, 3), bn(8, gen)
            yield ((lambda x=x, c=c, b=b, t=train: ref.conv_block(x, c, b, t)),
                   [lambda x=x, c=c, b=b, t=train, v=v: ref.conv_block(x, c, b, t, **v) for v in CONV_BLOCK_VARIANTS])
            for c_in, c_out, stride in ((8, 8, 1), (8, 16, 2)):
                x = rng.standard_normal((4, c_in, 9, 9)).astype(np.float32)
                convs = {"conv1": conv(c_in, c_out, 3), "conv2": conv(c_out, c_out, 3)}
                bns = {"conv1": bn(c_out, gen), "conv2": bn(c_out, gen)}
                if stride != 1:
                    convs["proj"], bns["proj"] = conv(c_in, c_out, 1), bn(c_out, gen)
                args = (x, convs, bns, stride, train)
                yield ((lambda a=args: ref.residual_block(*a)),
                       [lambda a=args, v=v: ref.residual_block(*a, variant=v) for v, _ in BLOCK_VARIANTS])


def measure(monkeypatch, device_conv):
    """(worst error of a right block computed with `device_conv`, smallest error of a wrong block), over all cases."""
    worst, closest = 0.0, np.inf
    for right, wrongs in cases():
        monkeypatch.setattr(ref, "conv", conv_exact)
        want = right().numpy()
        others = [w().numpy() for w in wrongs]
        monkeypatch.setattr(ref, "conv", device_conv)
        got = right().numpy().astype(np.float32)
        worst = max(worst, largest_error(got, want))
        # A variant equal to the block (max pooling after a positive BatchNorm in eval mode, or a stride
        # that is 1 anyway) is not a mistake in that case.
        closest = min([closest] + [largest_error(o, want) for o in others if o.shape == want.shape
                                   and largest_error(o, want) > 1e-9])
    return worst, closest


@pytest.mark.parametrize("device, device_conv, worst_at_most, closest_at_least", [
    ("cpu", float32_conv, 1e-5, 1e-2),
    ("cuda", tf32_conv, 2e-3, 3e-2),
])
def test_float32_tolerance_passes_right_blocks_and_fails_wrong_ones(monkeypatch, device, device_conv, worst_at_most,
                                                                     closest_at_least):
    eps = relative_tolerance(np.float32, device)
    worst, closest = measure(monkeypatch, device_conv)
    assert worst <= worst_at_most and worst * 2 <= eps, (worst, eps)  # room to spare for right code
    assert closest >= closest_at_least and closest >= 4 * eps, (closest, eps)  # wrong code stays far out


def test_every_device_and_dtype_has_a_tolerance_and_unknown_ones_are_strict():
    for device in ("cpu", "cuda", "mps"):
        assert relative_tolerance(np.float32, device) == TOLERANCES[(device, "float32")]
    assert relative_tolerance(np.float32, "cuda:1") == TOLERANCES[("cuda", "float32")]
    assert relative_tolerance(np.float64, "mps") == TOLERANCES[("cpu", "float64")]
    assert relative_tolerance(np.float32, "xpu") == TOLERANCES[("cpu", "float32")]
    assert relative_tolerance(np.int64, "cpu") == TOLERANCES[("cpu", "float64")]


def test_close_uses_the_device_and_the_work_dtype():
    want = np.ones((2, 3))
    off = want + 1e-3  # within TF32's bound, far outside CPU float32's
    assert not close(off.astype(np.float32), want, np.float32, "cpu")
    assert close(off.astype(np.float32), want, np.float32, "cuda")
    assert close(off, want, np.float32, "cuda:0")  # the device index does not matter
    assert not close(off, want)  # float64 result, no dtype given: float64 work
