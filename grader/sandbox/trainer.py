"""The grader's own training loop for exercise 3: Adam and cross-entropy on random batches, a chunk at a time.

Its Adam step is written out here rather than taken from torch.optim: an optimizer's first step imports
torch._dynamo (about a second on a 2-core machine), which the grader's loop has no use for. The arithmetic is
torch.optim.Adam's own (its single-tensor path, no weight decay), so a run is the same number for number
(tests/sandbox/test_trainer.py compares them bit for bit).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Adam:
    """torch.optim.Adam(params, lr) without torch.optim: the same update, in the same order of operations."""

    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params = list(params)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params]
        self.count = [0] * len(self.params)  # steps taken by each parameter (one without a gradient is skipped)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            grad, exp_avg, exp_avg_sq = p.grad, self.exp_avg[i], self.exp_avg_sq[i]
            self.count[i] += 1
            step = float(self.count[i])
            exp_avg.lerp_(grad, 1 - self.beta1)
            exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            step_size = self.lr / (1 - self.beta1 ** step)
            denom = (exp_avg_sq.sqrt() / (1 - self.beta2 ** step) ** 0.5).add_(self.eps)
            p.addcdiv_(exp_avg, denom, value=-step_size)


class Trainer:
    """The grader's training loop (Adam, cross-entropy, random batches drawn from `seed`), run a chunk at a time:
    the parent trains, looks at validation accuracy, and trains on only while the outcome is open."""

    def __init__(self, module: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int, lr: float,
                 seed: int):
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.module, self.images, self.labels, self.batch_size = module, images, labels, batch_size
        module.to(images.device).train()
        params = [p for p in module.parameters() if p.requires_grad]
        if not params or any(isinstance(p, nn.parameter.UninitializedParameter) for p in params):
            module(images[:2])  # a lazy layer gets its parameters on the first forward
            params = [p for p in module.parameters() if p.requires_grad]
        self.optimizer = Adam(params, lr=lr)

    def steps(self, count: int) -> list[float]:
        """Train `count` more steps; the cross-entropy of each batch."""
        module, losses = self.module, []
        module.train()
        for _ in range(count):
            idx = torch.from_numpy(self.rng.integers(0, len(self.images), size=self.batch_size)).to(self.images.device)
            loss = F.cross_entropy(module(self.images[idx]), self.labels[idx])  # (batch,) images -> one number
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(float(loss.detach()))
        return losses
