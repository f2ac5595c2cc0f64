"""The grader's training loop: its hand-written Adam is torch.optim.Adam's arithmetic, and it never imports dynamo."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.sandbox.trainer import Adam, Trainer


def _net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 5))


@pytest.mark.parametrize("lr", [3e-3, 0.1])
def test_the_adam_step_is_torch_optim_adam_bit_for_bit(lr):
    torch.manual_seed(0)
    ours, theirs = _net(), _net()
    theirs.load_state_dict(ours.state_dict())
    mine, reference = Adam(list(ours.parameters()), lr), torch.optim.Adam(theirs.parameters(), lr, foreach=False)
    for step in range(12):
        x, y = torch.randn(6, 3, 8, 8), torch.randint(0, 5, (6,))
        for model, optimizer in ((ours, mine), (theirs, reference)):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            assert torch.equal(a, b), f"{name} differs after step {step + 1}"


def test_a_parameter_without_a_gradient_is_left_alone_and_keeps_its_own_step_count():
    torch.manual_seed(1)
    used, unused = nn.Linear(3, 2), nn.Linear(3, 2)
    copy_used, copy_unused = nn.Linear(3, 2), nn.Linear(3, 2)
    copy_used.load_state_dict(used.state_dict())
    copy_unused.load_state_dict(unused.state_dict())
    mine = Adam([*used.parameters(), *unused.parameters()], 0.01)
    reference = torch.optim.Adam([*copy_used.parameters(), *copy_unused.parameters()], 0.01, foreach=False)
    for step in range(6):
        x = torch.randn(4, 3)
        for first, second, optimizer in ((used, unused, mine), (copy_used, copy_unused, reference)):
            optimizer.zero_grad()
            loss = first(x).sum() + (second(x).sum() if step >= 3 else 0)  # the second joins at step 4
            loss.backward()
            optimizer.step()
    for a, b in zip([*used.parameters(), *unused.parameters()], [*copy_used.parameters(), *copy_unused.parameters()]):
        assert torch.equal(a, b)


def test_training_does_not_import_torch_dynamo():
    # torch.optim's first step imports torch._dynamo, about a second; the grader's loop must not pay it.
    code = ("import sys, torch\n"
            "from grader.sandbox.trainer import Trainer\n"
            "x, y = torch.rand(16, 3, 8, 8), torch.randint(0, 3, (16,))\n"
            "net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 3))\n"
            "losses = Trainer(net, x, y, 4, 1e-2, 0).steps(5)\n"
            "assert len(losses) == 5\n"
            "print('torch._dynamo' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
