"""The data every experiment shares, loaded once in the parent before the workers fork.

MNIST is split as the trainer splits it at seed 0: 5,000 training images held out for
validation (learning rates are tuned on them, never on the test set), 55,000 left to train on.
The 10,000 test images and the drawn digits (``model.pendigits``, rendered as the page's canvas
renders them) are only ever evaluated on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model import pendigits
from model.data import load_mnist, to_float
from model.train import split_validation

VALIDATION_SIZE = 5000


@dataclass(frozen=True)
class LabData:
    train_x: np.ndarray  # (55000, 784) uint8, as the trainer takes it
    train_y: np.ndarray  # (55000,) intp
    val_x: np.ndarray  # (5000, 784) float32 in [0, 1]
    val_y: np.ndarray  # (5000,) intp
    test_x: np.ndarray  # (10000, 784) float32 in [0, 1]
    test_y: np.ndarray  # (10000,) intp
    pen: pendigits.MnistForm | None  # the drawn digits, or None where ../shared is missing
    fingerprint: str  # MNIST's, as model.data computes it

    def training_subset(self, n: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """A fixed, seeded subset of n training images (all of them for None): (n, 784) uint8
        and (n,) labels, in the split's order."""
        if n is None or n >= len(self.train_y):
            return self.train_x, self.train_y
        keep = np.sort(np.random.default_rng([seed, 7]).permutation(len(self.train_y))[:n])
        return self.train_x[keep], self.train_y[keep]


_current: LabData | None = None


def load(home: Path, pen_limit: int | None = None, processes: int = 1) -> LabData:
    """Load MNIST from the data home and render the drawn digits (a seeded sample of
    ``pen_limit`` of them, or all); the result is also what ``current()`` returns from now on,
    in this process and in every process forked after."""
    global _current
    mnist = load_mnist(home)
    train_idx, val_idx = split_validation(len(mnist.train_y), VALIDATION_SIZE, seed=0)
    flat = mnist.train_x.reshape(len(mnist.train_y), -1)
    pen = None
    if pendigits.PEN_DIGITS.exists():
        pen = pendigits.mnist_form(seed=0, limit=pen_limit, processes=processes)
    _current = LabData(
        train_x=np.ascontiguousarray(flat[train_idx]),
        train_y=mnist.train_y[train_idx].astype(np.intp),
        val_x=to_float(mnist.train_x[val_idx]),
        val_y=mnist.train_y[val_idx].astype(np.intp),
        test_x=to_float(mnist.test_x),
        test_y=mnist.test_y.astype(np.intp),
        pen=pen,
        fingerprint=mnist.fingerprint,
    )
    return _current


def current() -> LabData:
    """The data loaded by ``load`` (in a worker: inherited from the parent at fork)."""
    if _current is None:
        raise RuntimeError("model.lab.data.load() has not been called in this process")
    return _current
