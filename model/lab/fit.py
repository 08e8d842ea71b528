"""The lab's training loop: model/train.py's loop, opened up so an experiment can look inside.

``train()`` builds its network from a seed and reports per epoch. The lecture's claims need more:
a given starting point (the same weights for two losses, a saturated start), the loss after a
given number of updates, the wall time spent on updates alone, and probes such as the gradient
norm of every layer. ``fit`` is the same mini-batch SGD (shuffle every epoch, uint8 images scaled
per batch, ``SGD`` with momentum and weight decay, ``learning_rate`` schedules, optionally the
best validation epoch kept), step for step: with the same seed and settings it gives train()'s
weights bit for bit (tests/model/test_lab.py checks it). Except for a short run
(``model.train.is_short``): train() centres its inputs, and the lab keeps the lecture's plain
pixels, which its experiments measure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from model.losses import LOSSES
from model.network import MLP
from model.optim import SGD, learning_rate
from model.train import accuracy

Probe = Callable[[MLP], dict]


@dataclass(frozen=True)
class FitConfig:
    """How one network trains (the fields mean what they mean in TrainConfig)."""

    loss: str = "cross-entropy"  # "cross-entropy" or "squared"
    epochs: int = 10  # full passes over the training images
    batch_size: int = 128  # samples per update; the training set's size is batch GD
    learning_rate: float = 0.05  # peak step size
    schedule: str = "constant"  # "constant" or "cosine"
    warmup_epochs: float = 0.0  # linear warm-up, in epochs
    momentum: float = 0.0  # SGD momentum μ (0 is the lecture's plain gradient descent)
    weight_decay: float = 0.0  # L2 penalty λ on weights
    order_seed: int = 0  # the shuffle of every epoch (train() uses its one seed for this too)
    keep_best: bool = False  # end on the epoch with the best validation accuracy, as train() does


@dataclass
class FitResult:
    network: MLP
    history: list[dict] = field(default_factory=list)  # one row per epoch
    curve: list[dict] = field(default_factory=list)  # one row per checkpoint, with probe results
    best_epoch: int = 0
    validation_accuracy: float = 0.0
    train_seconds: float = 0.0  # time spent on updates only (probes and evaluation excluded)
    diverged: bool = False  # the loss became inf or NaN; training stopped there


def mean_loss(network: MLP, x: np.ndarray, y: np.ndarray, loss: str, batch: int = 4096) -> float:
    """The lecture's total loss divided by n: mean loss over x (n, 784) float32, y (n,)."""
    fn = LOSSES[loss]
    total = sum(
        fn.value(network.predict(x[i : i + batch]), y[i : i + batch]) * len(y[i : i + batch])
        for i in range(0, len(y), batch)
    )
    return total / max(len(y), 1)


def layer_gradient_norms(network: MLP, x: np.ndarray, y: np.ndarray, loss: str) -> dict:
    """‖∂L/∂bˡ‖ and ‖∂L/∂Wˡ‖ for every layer, first to last, on x (n, 784), y (n,).

    L is the mean loss over the n rows, so ∂L/∂bˡ is the mean of δˡ over the samples: the "speed
    of learning" of layer l that Nielsen plots (ch. 5), computed as he does on 1,000 images.
    """
    _, grads = network.gradients(x, y, LOSSES[loss])
    return {
        "bias": [float(np.linalg.norm(g)) for g in grads[1::2]],
        "weight": [float(np.linalg.norm(g)) for g in grads[0::2]],
    }


def fit(
    network: MLP,
    images: np.ndarray,
    labels: np.ndarray,
    config: FitConfig,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    checkpoints: tuple[int, ...] = (),
    probe: Probe | None = None,
    every_epoch: bool = True,
    progress: Callable[[float], None] | None = None,
) -> FitResult:
    """Train ``network`` in place on images (n, 784) uint8 and labels (n,), with one BLAS thread
    (as train(): faster on these matrices, and the same weights bit for bit every run).

    ``validation`` = (x (m, 784) float32, y (m,)) is scored after every epoch. ``probe(network)``
    runs at update 0, at every update count in ``checkpoints`` and (if ``every_epoch``) at the
    end of every epoch, with the clock stopped; its dict joins that row of ``curve`` beside
    ``updates``, ``epoch`` (fractional) and ``seconds``. ``progress(fraction)`` is called now and
    then.
    """
    # A diverging run overflows on its way to inf or NaN; it is caught and reported as diverged.
    with threadpool_limits(1), np.errstate(over="ignore", invalid="ignore"):
        return _fit(
            network, images, labels, config, validation, checkpoints, probe, every_epoch, progress
        )


def _fit(network, images, labels, config, validation, checkpoints, probe, every_epoch, progress):
    loss = LOSSES[config.loss]
    n = len(labels)
    batch_size = min(config.batch_size, n)
    batches = -(-n // batch_size)
    ws = network.workspace(batch_size)
    grads = [g for gw in zip(ws.grad_w, ws.grad_b) for g in gw]
    optimiser = SGD(network.parameters, config.momentum, config.weight_decay)
    shuffle_rng = np.random.default_rng([config.order_seed, 3])  # as train() shuffles
    u8_epoch = np.empty_like(images)
    x_batch = np.empty((batch_size, images.shape[1]), dtype=np.float32)
    scale = np.float32(1 / 255)
    pending = sorted(set(checkpoints))
    result = FitResult(network)
    best = [p.copy() for p in network.parameters]
    clock = 0.0
    warmup = config.warmup_epochs

    def record(updates: int, epoch: float) -> None:
        row = {"updates": updates, "epoch": round(epoch, 6), "seconds": round(clock, 4)}
        if probe is not None:
            row.update(probe(network))
        result.curve.append(row)

    record(0, 0.0)
    total_updates = batches * config.epochs
    updates = 0
    for epoch in range(config.epochs):
        started = time.perf_counter()
        order = shuffle_rng.permutation(n)
        np.take(images, order, axis=0, out=u8_epoch, mode="clip")
        y_epoch = labels[order]
        loss_sum = correct = 0.0
        for b in range(batches):
            lo, hi = b * batch_size, min(n, (b + 1) * batch_size)
            xb, yb = x_batch[: hi - lo], y_epoch[lo:hi]
            np.multiply(u8_epoch[lo:hi], scale, out=xb)
            probs = network.forward_(xb, ws)
            value = loss.value(probs, yb)
            if not math.isfinite(value):
                result.diverged = True
                break
            loss_sum += value * (hi - lo)
            correct += int((probs.argmax(axis=1) == yb).sum())
            delta = loss.delta(probs, yb, out=ws.deltas[-1][: hi - lo])
            network.backward_(xb, ws, delta)
            at = epoch + b / batches
            lr = learning_rate(config.schedule, config.learning_rate, at, config.epochs, warmup)
            optimiser.step(grads, lr)
            updates += 1
            if pending and updates == pending[0]:
                pending.pop(0)
                clock += time.perf_counter() - started
                record(updates, epoch + (b + 1) / batches)
                started = time.perf_counter()
            if progress is not None and b % 256 == 255:
                progress(updates / total_updates)
        clock += time.perf_counter() - started
        if result.diverged:
            break
        val_accuracy = accuracy(network, *validation) if validation is not None else None
        result.history.append(
            {
                "epoch": epoch + 1,
                "updates": updates,
                "seconds": round(clock, 4),
                "train_loss": loss_sum / n,
                "train_accuracy": correct / n,
                "validation_accuracy": val_accuracy,
            }
        )
        last = epoch + 1 == config.epochs
        if (every_epoch or last) and result.curve[-1]["updates"] != updates:
            record(updates, epoch + 1.0)
        if val_accuracy is not None and val_accuracy >= result.validation_accuracy:
            result.best_epoch, result.validation_accuracy = epoch + 1, val_accuracy
            best = [p.copy() for p in network.parameters]
        if progress is not None:
            progress(updates / total_updates)
    if config.keep_best and result.best_epoch:
        for p, b in zip(network.parameters, best):
            p[...] = b
    result.train_seconds = clock
    return result
