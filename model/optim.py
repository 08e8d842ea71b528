"""Parameter updates: mini-batch SGD with momentum and L2 weight decay; learning-rate schedules."""

from __future__ import annotations

import math

import numpy as np


class SGD:
    """v ← μ·v − lr·(g + λ·w);  w ← w + v.  Updates the parameter arrays in place.

    Weight decay applies to weights only, never to biases (params listed as in MLP.parameters).
    """

    def __init__(self, params: list[np.ndarray], momentum: float = 0.9, weight_decay: float = 0.0):
        self.params = params
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = [np.zeros_like(p) for p in params]
        self.decays = [weight_decay if p.ndim == 2 else 0.0 for p in params]
        self._tmp = [np.empty_like(p) if d else None for p, d in zip(params, self.decays)]

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        """grads match params in shape. They are scratch (the next backward overwrites them), so
        they are scaled in place: a training step then allocates no temporaries."""
        for p, g, v, decay, tmp in zip(self.params, grads, self.velocity, self.decays, self._tmp):
            if decay:
                np.multiply(p, decay, out=tmp)
                g += tmp
            v *= self.momentum
            g *= lr
            v -= g
            p += v


def learning_rate(
    schedule: str, base: float, epoch: float, epochs: int, warmup: float = 0.0
) -> float:
    """The rate at a (fractional) epoch: "constant", or "cosine" decay to 0 after linear warm-up."""
    if warmup and epoch < warmup:
        return base * (epoch + 1e-3) / warmup
    if schedule == "constant":
        return base
    if schedule == "cosine":
        progress = min(1.0, (epoch - warmup) / max(epochs - warmup, 1e-9))
        return 0.5 * base * (1 + math.cos(math.pi * progress))
    raise ValueError(f"schedule must be 'constant' or 'cosine', got {schedule!r}")


SCHEDULES = ("constant", "cosine")
