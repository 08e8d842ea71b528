"""Training: mini-batch SGD with backprop, shuffled every epoch, seeded and reproducible.

``train`` takes uint8 images and labels, holds out a validation split (used for reporting and for
keeping the best epoch; the MNIST test set is never used to choose anything), and reports progress
through a callback: one event every ``progress_every`` batches and one per epoch.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, fields

import numpy as np
from threadpoolctl import threadpool_limits

from model.augment import distort
from model.losses import LOSSES
from model.network import ACTIVATIONS, MLP
from model.optim import SCHEDULES, SGD, learning_rate
from model.synth import synthetic_set


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights. Stored in every model file."""

    hidden: tuple[int, ...] = (512, 256)  # widths of the hidden layers, input to output
    activation: str = "relu"  # "relu", "sigmoid" (the lecture's) or "tanh"
    loss: str = "cross-entropy"  # "cross-entropy" (fused with softmax) or "squared"
    epochs: int = 30  # full passes over the training split
    batch_size: int = 128  # samples per gradient step
    learning_rate: float = 0.05  # peak step size, reached after warm-up
    schedule: str = "cosine"  # "cosine" decay to zero, or "constant"
    warmup_epochs: float = 1.0  # linear warm-up from zero, in epochs
    momentum: float = 0.9  # SGD momentum μ
    weight_decay: float = 5e-5  # L2 penalty λ on weights (not biases)
    augment: bool = True  # distort every training image afresh each epoch (model/augment.py)
    synthetic_share: float = 0.5  # stroke-drawn digits in styles MNIST lacks (model/synth.py),
    # added to the training split as this share of its size
    seed: int = 0  # initial weights, validation split, shuffling and augmentation
    validation_size: int = 5000  # training samples held out for reporting and best-epoch choice
    max_train_samples: int | None = None  # train on a subset (quick runs and tests); None = all
    progress_every: int = 50  # emit a "batch" event every N batches

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}")
        if self.epochs < 1 or self.batch_size < 1 or any(h < 1 for h in self.hidden):
            raise ValueError("epochs, batch_size and hidden widths must be positive")
        if not 0 <= self.synthetic_share <= 1:
            raise ValueError("synthetic_share must be between 0 and 1")
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


Event = dict
Callback = Callable[[Event], None]


@dataclass
class TrainResult:
    network: MLP
    history: list[dict] = field(default_factory=list)  # one epoch event per epoch
    best_epoch: int = 0
    validation_accuracy: float = 0.0
    seconds: float = 0.0


def split_validation(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation) of a fixed, seeded hold-out of ``size`` of n samples."""
    order = np.random.default_rng([seed, 1]).permutation(n)
    return np.sort(order[size:]), np.sort(order[:size])


def accuracy(network: MLP, x: np.ndarray, y: np.ndarray, batch: int = 4096) -> float:
    """Share of rows of x (n, 784) whose argmax prediction equals y (n,)."""
    correct = sum(
        int((network.predict(x[i : i + batch]).argmax(axis=1) == y[i : i + batch]).sum())
        for i in range(0, len(x), batch)
    )
    return correct / max(len(x), 1)


def evaluate(network: MLP, x: np.ndarray, y: np.ndarray) -> dict:
    """x (n, 784) float32, y (n,) → accuracy, per-class accuracy (10,) and confusion (10, 10)
    with rows = true digit, columns = predicted digit."""
    predicted = np.concatenate(
        [network.predict(x[i : i + 4096]).argmax(axis=1) for i in range(0, len(x), 4096)]
    )
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (y.astype(np.intp), predicted), 1)
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "accuracy": float(confusion.trace() / max(len(y), 1)),
        "per_class": [round(float(a), 6) for a in per_class],
        "confusion": confusion.tolist(),
    }


# The augmenting worker gets the images once, at fork, and sends back uint8 epochs (4× smaller
# than float32), so distorting epoch e + 1 overlaps with training on epoch e.
_worker_images: np.ndarray | None = None
_PR_SET_PDEATHSIG = 1  # prctl(2): a signal the kernel sends this process when its parent dies


def _init_worker(images: np.ndarray, parent: int) -> None:
    global _worker_images
    _worker_images = images
    _die_with(parent)


def _die_with(parent: int) -> None:
    """Have the kernel kill this worker when its parent ends, however it ends (SIGKILL too).

    Otherwise a worker whose trainer was killed finishes its epoch and then blocks for ever on
    the result pipe, holding its memory (it holds the pipe's other end itself, from the fork).
    Linux only; elsewhere the worker outlives a killed trainer.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


def _augmented_epoch(seed: int, epoch: int) -> np.ndarray:
    rng = np.random.default_rng([seed, 2, epoch])
    with threadpool_limits(1):
        x = distort(_worker_images, rng)
    return np.round(x * 255).astype(np.uint8)


def train(
    config: TrainConfig,
    images: np.ndarray,
    labels: np.ndarray,
    callback: Callback | None = None,
    extra: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> TrainResult:
    """Train a new network on images (n, 28, 28) uint8 and labels (n,).

    ``extra`` = (images (m, 28, 28) uint8, labels (m,), repeats): samples such as user-labelled
    drawings that join the training split only, each ``repeats`` times an epoch (oversampling,
    since they are few); the validation split and ``max_train_samples`` never touch them.
    Returns the weights of the epoch with the best validation accuracy. Raises
    KeyboardInterrupt through, untouched, if interrupted.
    """
    started = time.perf_counter()
    emit = callback or (lambda event: None)
    if config.max_train_samples is not None:
        keep = np.random.default_rng([config.seed, 0]).permutation(len(images))[
            : config.max_train_samples
        ]
        keep.sort()
        images, labels = images[keep], labels[keep]
    val_size = min(config.validation_size, len(images) // 5)
    train_idx, val_idx = split_validation(len(images), val_size, config.seed)
    x_val = images[val_idx].reshape(len(val_idx), -1).astype(np.float32) / np.float32(255)
    y_val = labels[val_idx].astype(np.intp)
    train_images = images[train_idx]
    train_labels = labels[train_idx].astype(np.intp)
    parts = [(train_images, train_labels)]
    if config.synthetic_share:
        count = round(config.synthetic_share * len(train_labels))
        synth_images, synth_labels = synthetic_set(count, config.seed)
        parts.append((synth_images, synth_labels.astype(np.intp)))
    if extra is not None and len(extra[1]):
        extra_images, extra_labels, repeats = extra
        if repeats < 1:
            raise ValueError("extra samples must be repeated at least once")
        parts.append((np.repeat(extra_images, repeats, 0),
                      np.repeat(np.asarray(extra_labels, dtype=np.intp), repeats)))  # fmt: skip
    if len(parts) > 1:
        train_images = np.concatenate([p[0] for p in parts])
        train_labels = np.concatenate([p[1] for p in parts])
    n = len(train_labels)

    network = MLP([784, *config.hidden, 10], config.activation, seed=config.seed)
    loss = LOSSES[config.loss]
    optimiser = SGD(network.parameters, config.momentum, config.weight_decay)
    ws = network.workspace(config.batch_size)
    grads = [g for gw in zip(ws.grad_w, ws.grad_b) for g in gw]
    shuffle_rng = np.random.default_rng([config.seed, 3])
    batches = -(-n // config.batch_size)
    result = TrainResult(network)
    best = [p.copy() for p in network.parameters]
    plain = train_images.reshape(n, -1)
    u8_epoch = np.empty((n, plain.shape[1]), dtype=np.uint8)  # this epoch's images, shuffled
    x_batch = np.empty((config.batch_size, plain.shape[1]), dtype=np.float32)
    scale = np.float32(1 / 255)

    pool = None
    if config.augment:
        pool = ProcessPoolExecutor(
            1,
            multiprocessing.get_context("fork"),
            initializer=_init_worker,
            initargs=(train_images, os.getpid()),
        )
        upcoming = pool.submit(_augmented_epoch, config.seed, 0)
    try:
        # One BLAS thread: on these small matrices two threads are many times slower, and one
        # thread makes the result bit-identical run to run.
        with threadpool_limits(1):
            for epoch in range(config.epochs):
                if pool is not None:
                    source = upcoming.result()
                    if epoch + 1 < config.epochs:
                        upcoming = pool.submit(_augmented_epoch, config.seed, epoch + 1)
                else:
                    source = plain
                order = shuffle_rng.permutation(n)
                # Shuffle once per epoch, as uint8 into a buffer reused every epoch; each batch is
                # then scaled to float32 into one small buffer that stays in cache for its matrix
                # products. A float32 copy of the whole epoch (188 MB at 60k images) would cost
                # more in page faults and memory traffic than the products themselves.
                # (mode="clip": a permutation is always in range, and "raise" would write through
                # a temporary array.)
                np.take(source, order, axis=0, out=u8_epoch, mode="clip")
                y_epoch = train_labels[order]
                loss_sum = correct = 0.0
                for b in range(batches):
                    lo, hi = b * config.batch_size, min(n, (b + 1) * config.batch_size)
                    xb, yb = x_batch[: hi - lo], y_epoch[lo:hi]
                    np.multiply(u8_epoch[lo:hi], scale, out=xb)  # uint8 → float32 in [0, 1]
                    probs = network.forward_(xb, ws)
                    loss_sum += loss.value(probs, yb) * (hi - lo)
                    correct += int((probs.argmax(axis=1) == yb).sum())
                    delta = loss.delta(probs, yb, out=ws.deltas[-1][: hi - lo])
                    network.backward_(xb, ws, delta)
                    lr = learning_rate(
                        config.schedule, config.learning_rate, epoch + b / batches,
                        config.epochs, config.warmup_epochs,
                    )  # fmt: skip
                    optimiser.step(grads, lr)
                    if (b + 1) % config.progress_every == 0 and b + 1 < batches:
                        emit(_event("batch", config, epoch, (b + 1) / batches, loss_sum / hi,
                                    correct / hi, None, started))  # fmt: skip
                val_accuracy = accuracy(network, x_val, y_val)
                event = _event(
                    "epoch", config, epoch, 1.0, loss_sum / n, correct / n, val_accuracy, started
                )
                result.history.append(event)
                if val_accuracy >= result.validation_accuracy:  # a tie goes to the later epoch
                    result.best_epoch, result.validation_accuracy = epoch + 1, val_accuracy
                    best = [p.copy() for p in network.parameters]
                emit(event)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    for p, b in zip(network.parameters, best):
        p[...] = b
    result.seconds = time.perf_counter() - started
    return result


def _event(kind, config, epoch, fraction, loss, train_acc, val_acc, started) -> Event:
    elapsed = time.perf_counter() - started
    done = epoch + fraction
    return {
        "kind": kind,
        "epoch": epoch + 1,
        "epochs": config.epochs,
        "batch_fraction": round(fraction, 4),
        "loss": round(float(loss), 6),
        "train_accuracy": round(float(train_acc), 6),
        "validation_accuracy": None if val_acc is None else round(float(val_acc), 6),
        "elapsed": round(elapsed, 3),
        "eta": round(elapsed / done * (config.epochs - done), 1),
    }
