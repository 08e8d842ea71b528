"""Training: mini-batch SGD with backprop, shuffled every epoch, seeded and reproducible.

``training_set`` assembles what a run trains on (a seeded validation split held out: it reports
and keeps the best epoch; the MNIST test set never chooses anything), ``model.epochs`` supplies
each epoch's images (distorted ahead by a worker when augmenting), and ``train`` runs the loop,
reporting through a callback: one event every ``progress_every`` batches and one per epoch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

import numpy as np
from threadpoolctl import threadpool_limits

from model import generated
from model.epochs import Epochs
from model.losses import LOSSES
from model.network import ACTIVATIONS, MLP
from model.optim import SCHEDULES, SGD, learning_rate

NOT_A_DIGIT = 10  # the label, and the output, of marks that are not digits
MAX_WARMUP_STEPS = 300  # the longest learning-rate warm-up, in optimiser steps
MIN_STEPS = 500  # a run takes at least this many optimiser steps: see batch_size below
MIN_BATCH_SIZE = 16  # ... but never batches smaller than this


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights. Stored in every model file."""

    hidden: tuple[int, ...] = (512, 256)  # widths of the hidden layers, input to output
    activation: str = "relu"  # "relu", "sigmoid" (the lecture's) or "tanh"
    loss: str = "cross-entropy"  # "cross-entropy" (fused with softmax) or "squared"
    epochs: int = 30  # full passes over the training split
    batch_size: int = 128  # samples per gradient step; a run too short for MIN_STEPS steps of
    # this size takes smaller batches (not below MIN_BATCH_SIZE): one epoch of 5,000 MNIST
    # images (8,500 with the generated digits and the marks) is 67 steps of 128, so it takes
    # 500 steps of 17, with its inputs centred (is_short)
    learning_rate: float = 0.05  # peak step size, reached after warm-up
    schedule: str = "cosine"  # "cosine" decay to zero, or "constant"
    warmup_share: float = 0.05  # linear warm-up from zero over this share of all steps, but
    # never more than MAX_WARMUP_STEPS: a long run needs a few hundred, and a one-epoch run spent
    # mostly warming up would learn almost nothing
    momentum: float = 0.9  # SGD momentum μ
    weight_decay: float = 5e-5  # L2 penalty λ on weights (not biases)
    augment: bool = True  # distort every training image afresh each epoch (model/augment.py)
    synthetic_share: float = 0.5  # stroke-drawn digits in styles MNIST lacks (model/synth.py),
    # added to the training split as this share of its size
    mark_share: float = 0.1  # marks that are not digits (model/marks.py), as this share of the
    # training split, labelled NOT_A_DIGIT: the network gets an eleventh output for them
    real_mark_share: float = 0.1  # with marks on, real pen marks (model/real_marks.py: letters
    # and symbols people wrote) join them, as this share of the training split
    seed: int = 0  # initial weights, validation split, shuffling and augmentation
    validation_size: int = 5000  # training samples held out for reporting and best-epoch choice
    max_train_samples: int | None = None  # train on this many of the MNIST images left after
    # the validation split (quick runs and tests); None = all of them
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
        if self.max_train_samples is not None and self.max_train_samples < 1:
            raise ValueError("max_train_samples must be positive (or None: all of them)")
        shares = (self.synthetic_share, self.mark_share, self.real_mark_share, self.warmup_share)
        if not all(0 <= s <= 1 for s in shares):
            raise ValueError(
                "synthetic_share, mark_share, real_mark_share and warmup_share must be between 0 "
                "and 1"
            )
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    @property
    def classes(self) -> int:
        """The network's outputs: the ten digits, and "not a digit" when it learns marks."""
        return 11 if self.mark_share else 10

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def batch_size_for(config: TrainConfig, samples: int) -> int:
    """The batch size a run over ``samples`` images an epoch trains with: config.batch_size,
    or smaller, so that the run takes at least MIN_STEPS steps (batches of MIN_BATCH_SIZE or
    more). Long runs, the shipped recipe among them, keep config.batch_size."""
    fitted = samples * config.epochs // MIN_STEPS
    return min(config.batch_size, max(fitted, MIN_BATCH_SIZE))


def is_short(config: TrainConfig, samples: int) -> bool:
    """Whether a run over ``samples`` images an epoch is short: one that takes smaller batches
    than config.batch_size (``batch_size_for``), having too few steps of that size to learn
    from. A short run also centres its inputs (``pixel_mean``): what limits it is how fast it
    learns. (A run that asks for batches of MIN_BATCH_SIZE or fewer is never short.)"""
    return batch_size_for(config, samples) < config.batch_size


def short_run_note(config: TrainConfig, samples: int) -> str | None:
    """What a short run over ``samples`` images an epoch says about it, in words for the
    person who asked; None for a run that is not short."""
    if not is_short(config, samples):
        return None
    batch_size = batch_size_for(config, samples)
    asked = config.epochs * -(-samples // config.batch_size)
    taken = config.epochs * -(-samples // batch_size)
    return (
        f"{asked} steps of {config.batch_size} images are too few to learn from (a run takes "
        f"{MIN_STEPS} if it can), so this run takes {taken} steps of {batch_size}, with its "
        "inputs centred on the images' mean"
    )


def warmup_epochs(config: TrainConfig, batches: int) -> float:
    """The warm-up's length in (fractional) epochs of ``batches`` steps each."""
    steps = min(config.warmup_share * config.epochs * batches, MAX_WARMUP_STEPS)
    return steps / batches


def pixel_mean(images: np.ndarray) -> np.ndarray:
    """images (n, 28, 28) or (n, 784) uint8 → the mean image (784,) float32, in [0, 1].

    A short run (``is_short``) subtracts it from every input: a network learns faster from
    inputs whose mean is near zero (LeCun et al., "Efficient BackProp", 1998, section 4.3).
    With raw pixels, all non-negative, the weights into a hidden neuron all get gradients of one
    sign from a sample, so they can only move together and zig-zag to where they belong. Long
    runs keep raw pixels: centred, the shipped recipe read fewer drawn digits. The figures, both
    ways, are in benchmarks/RESULTS.md ("Short retrains"). ``fold_mean`` then moves the mean
    into the first layer's biases, so that every trained network reads plain pixels.
    """
    flat = images.reshape(len(images), -1)
    return (flat.mean(axis=0, dtype=np.float64) / 255).astype(np.float32)


def fold_mean(network: MLP, mean: np.ndarray) -> None:
    """Make a network trained on inputs x − mean read plain x: (x − m)·W + b = x·W + (b − m·W).
    mean is (784,); the first layer's biases change in place, nothing else."""
    shift = mean.astype(np.float64) @ network.weights[0].astype(np.float64)
    network.biases[0] -= shift.astype(network.dtype)


Event = dict
Callback = Callable[[Event], None]


class TrainingDiverged(ValueError):
    """The training loss stopped being a number: the settings make the steps too large (a
    high learning rate with high momentum), and every weight after it would be NaN."""


@dataclass
class TrainResult:
    network: MLP
    history: list[dict] = field(default_factory=list)  # one epoch event per epoch
    best_epoch: int = 0
    validation_accuracy: float = 0.0
    seconds: float = 0.0
    prepare_seconds: float = 0.0  # assembling the training set, before the first epoch
    waited_seconds: float = 0.0  # spent waiting for the augmentation worker's next epoch


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


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """labels (n,) and predicted (n,) classes → counts (rows, classes): rows = true label (10
    digits, and an eleventh when a label is NOT_A_DIGIT), columns = predicted."""
    labels = np.asarray(labels, dtype=np.intp)
    rows = max(10, int(labels.max()) + 1) if len(labels) else 10
    confusion = np.zeros((rows, max(classes, rows)), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    return confusion[:, :classes] if rows <= classes else confusion


def evaluate(network: MLP, x: np.ndarray, y: np.ndarray) -> dict:
    """x (n, 784) float32, y (n,) → accuracy, per-class accuracy (10,) and confusion (10, 10)
    with rows = true digit, columns = predicted digit."""
    predicted = np.concatenate(
        [network.predict(x[i : i + 4096]).argmax(axis=1) for i in range(0, len(x), 4096)]
    )
    confusion = confusion_matrix(y, predicted, network.sizes[-1])
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    return {
        "accuracy": float(confusion.trace() / max(len(y), 1)),
        "per_class": [round(float(a), 6) for a in per_class],
        "confusion": confusion.tolist(),
    }


@dataclass(frozen=True)
class TrainingSet:
    """What one run trains on: images (n, 28, 28) uint8 and labels (n,) intp, in the order the
    epochs shuffle; and the held-out validation split, x (m, 784) float32 and y (m,)."""

    images: np.ndarray
    labels: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray


def split_indices(config: TrainConfig, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Which of n MNIST images a run trains on and which validate it: (train, validation)
    indices, sorted. The validation split is held out first (seeded), then ``max_train_samples``
    picks a seeded subset of the rest."""
    train_idx, val_idx = split_validation(n, min(config.validation_size, n // 5), config.seed)
    if config.max_train_samples is not None:
        keep = np.random.default_rng([config.seed, 0]).permutation(len(train_idx))
        train_idx = np.sort(train_idx[keep[: config.max_train_samples]])
    return train_idx, val_idx


def training_set_size(config: TrainConfig, available: int, extra: int = 0, repeats: int = 1) -> int:
    """How many images an epoch of ``training_set`` holds, without building it: the MNIST
    images left after the validation split (at most ``max_train_samples``), the synthetic
    digits and marks in proportion to them, and the extra samples."""
    split = _split_size(config, available)
    return split + sum(_added(config, split).values()) + extra * repeats


def generated_part(config: TrainConfig, available: int) -> generated.Generated:
    """The synthetic digits, synthetic marks and real marks that join a run over ``available``
    MNIST images: made once per machine, then read from the cache folder (``model.generated``).
    ``digits data fetch`` calls it for the default recipe, so that no run waits for them."""
    added = _added(config, _split_size(config, available))
    return generated.made(config.seed, added["synthetic"], added["marks"], added["real marks"])


def _split_size(config: TrainConfig, available: int) -> int:
    """How many of ``available`` MNIST images a run trains on (``split_indices``, counted)."""
    split = available - min(config.validation_size, available // 5)
    return split if config.max_train_samples is None else min(split, config.max_train_samples)


def _added(config: TrainConfig, split: int) -> dict[str, int]:
    """How many synthetic digits, synthetic marks and real marks join a training split of
    ``split`` MNIST images."""
    marks = config.mark_share > 0  # real marks only join a network that learns marks
    return {
        "synthetic": round(config.synthetic_share * split),
        "marks": round(config.mark_share * split),
        "real marks": round(config.real_mark_share * split) if marks else 0,
    }


def training_set(
    config: TrainConfig,
    images: np.ndarray,
    labels: np.ndarray,
    extra: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> TrainingSet:
    """images (n, 28, 28) uint8 and labels (n,) → the run's training and validation data.

    A seeded validation split is held out, and ``max_train_samples`` picks a seeded subset of
    the rest (so a run asked for 5,000 images trains on 5,000). The synthetic stroke digits,
    the synthetic and the real marks (each a share of the training split) and ``extra`` =
    (images (m, 28, 28), labels (m,), repeats), each repeated, join the training split only.
    """
    train_idx, val_idx = split_indices(config, len(images))
    val_x = images[val_idx].reshape(len(val_idx), -1).astype(np.float32) / np.float32(255)
    parts = [(images[train_idx], labels[train_idx].astype(np.intp))]
    made = generated_part(config, len(images))
    parts.append((made.digits, made.digit_labels.astype(np.intp)))
    for marks in (made.marks, made.real_marks):
        parts.append((marks, np.full(len(marks), NOT_A_DIGIT, dtype=np.intp)))
    if extra is not None and len(extra[1]):
        extra_images, extra_labels, repeats = extra
        if repeats < 1:
            raise ValueError("extra samples must be repeated at least once")
        parts.append(
            (
                np.repeat(extra_images, repeats, 0),
                np.repeat(np.asarray(extra_labels, dtype=np.intp), repeats),
            )
        )
    train_images, train_labels = parts[0]
    if len(parts) > 1:
        train_images = np.concatenate([p[0] for p in parts])
        train_labels = np.concatenate([p[1] for p in parts])
    return TrainingSet(train_images, train_labels, val_x, labels[val_idx].astype(np.intp))


def train(
    config: TrainConfig,
    images: np.ndarray,
    labels: np.ndarray,
    callback: Callback | None = None,
    extra: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> TrainResult:
    """Train a new network on images (n, 28, 28) uint8 and labels (n,), plus ``extra``
    (see ``training_set``). Returns the weights of the epoch with the best validation accuracy.
    Raises KeyboardInterrupt through, untouched, if interrupted.
    """
    started = time.perf_counter()
    emit = callback or (lambda event: None)
    data = training_set(config, images, labels, extra)
    n = len(data.labels)
    mean = pixel_mean(data.images) if is_short(config, n) else None
    val_x = data.val_x if mean is None else data.val_x - mean

    network = MLP([784, *config.hidden, config.classes], config.activation, seed=config.seed)
    loss = LOSSES[config.loss]
    optimiser = SGD(network.parameters, config.momentum, config.weight_decay)
    batch_size = batch_size_for(config, n)
    ws = network.workspace(batch_size)
    grads = [g for gw in zip(ws.grad_w, ws.grad_b) for g in gw]
    shuffle_rng = np.random.default_rng([config.seed, 3])
    batches = -(-n // batch_size)
    warmup = warmup_epochs(config, batches)
    result = TrainResult(network)
    best = [p.copy() for p in network.parameters]
    u8_epoch = np.empty((n, 28 * 28), dtype=np.uint8)  # this epoch's images, shuffled
    x_batch = np.empty((batch_size, 28 * 28), dtype=np.float32)
    scale = np.float32(1 / 255)

    # One BLAS thread: on these small matrices two threads are many times slower, and one thread
    # makes the result bit-identical run to run.
    # Overflow in a diverging run is said once, in words (TrainingDiverged), not as warnings.
    with (
        Epochs(data.images, config.augment, config.seed, config.epochs) as epochs,
        threadpool_limits(1),
        np.errstate(over="ignore", invalid="ignore"),
    ):
        result.prepare_seconds = time.perf_counter() - started
        for epoch in range(config.epochs):
            asked = time.perf_counter()
            source = epochs.get(epoch)
            result.waited_seconds += time.perf_counter() - asked
            if epoch == 0:  # the ETA's pace starts here: the first epoch's images are ready
                setup = time.perf_counter() - started
            order = shuffle_rng.permutation(n)
            # Shuffle once per epoch, as uint8 into a buffer reused every epoch; each batch is
            # then scaled to float32 into one small buffer that stays in cache for its matrix
            # products. A float32 copy of the whole epoch (188 MB at 60k images) would cost more
            # in page faults and memory traffic than the products themselves. (mode="clip": a
            # permutation is always in range, and "raise" would write through a temporary.)
            np.take(source, order, axis=0, out=u8_epoch, mode="clip")
            y_epoch = data.labels[order]
            loss_sum = correct = 0.0
            for b in range(batches):
                lo, hi = b * batch_size, min(n, (b + 1) * batch_size)
                xb, yb = x_batch[: hi - lo], y_epoch[lo:hi]
                np.multiply(u8_epoch[lo:hi], scale, out=xb)  # uint8 → float32 in [0, 1]
                if mean is not None:
                    xb -= mean
                probs = network.forward_(xb, ws)
                loss_sum += loss.value(probs, yb) * (hi - lo)
                correct += int((probs.argmax(axis=1) == yb).sum())
                delta = loss.delta(probs, yb, out=ws.deltas[-1][: hi - lo])
                network.backward_(xb, ws, delta)
                lr = learning_rate(
                    config.schedule,
                    config.learning_rate,
                    epoch + b / batches,
                    config.epochs,
                    warmup,
                )
                optimiser.step(grads, lr)
                if (b + 1) % config.progress_every == 0 and b + 1 < batches:
                    emit(
                        _event(
                            "batch",
                            config,
                            epoch,
                            (b + 1) / batches,
                            loss_sum / hi,
                            correct / hi,
                            None,
                            started,
                            setup,
                        )
                    )
            # From here every weight is NaN: the run has failed, even if an earlier epoch was
            # fine (a model of NaN weights was once written, as the best of one epoch).
            if not np.isfinite(loss_sum):
                raise TrainingDiverged(
                    f"the training loss became {loss_sum / n} in epoch {epoch + 1}: the steps are "
                    f"too large for this network (learning rate {config.learning_rate}, momentum "
                    f"{config.momentum}); lower the learning rate"
                )
            val_accuracy = accuracy(network, val_x, data.val_y)
            event = _event(
                "epoch",
                config,
                epoch,
                1.0,
                loss_sum / n,
                correct / n,
                val_accuracy,
                started,
                setup,
            )
            result.history.append(event)
            if val_accuracy >= result.validation_accuracy:  # a tie goes to the later epoch
                result.best_epoch, result.validation_accuracy = epoch + 1, val_accuracy
                best = [p.copy() for p in network.parameters]
            emit(event)
    for p, b in zip(network.parameters, best):
        p[...] = b
    if mean is not None:
        fold_mean(network, mean)
    result.seconds = time.perf_counter() - started
    return result


def _event(kind, config, epoch, fraction, loss, train_acc, val_acc, started, setup) -> Event:
    """A progress event. The ETA extrapolates the epochs' own pace (time since ``setup``
    seconds after ``started``, when the first epoch's images were ready), not the whole elapsed
    time: assembling the data set, and augmenting the first epoch before any training can
    overlap it, happen once."""
    now = time.perf_counter()
    elapsed = now - started
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
        "eta": round((elapsed - setup) / done * (config.epochs - done), 1),
    }
