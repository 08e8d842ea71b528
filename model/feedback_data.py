"""User-labelled drawings as training data: the fixed held-back split and the mixing weights.

The drawings come from wherever they are stored (the app keeps them in SQLite); here they are
plain arrays, x (n, 28, 28) uint8 in MNIST form and y (n,) labels, so this works from a notebook.

The held-back set is chosen per sample, not per run. Each sample gets a seeded hash of its pixels
and label, read as a number u in [0, 1). It is held back when u < 0.2 (so 20% of the feedback,
give or take chance), or when it is among the ``MIN_HELD_BACK_PER_CLASS`` lowest of its class
(so a small class still has a handful to be scored on, while at least half of it trains). The
choice depends only on the samples, not on the run: it is the same between retrains, and as the
store grows a training sample never becomes a held-back one (a newcomer can only push a sample
held back for the minimum into training, once its class has enough).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

HOLD_BACK_SHARE = 0.2  # of each class's samples
MIN_HELD_BACK_PER_CLASS = 5  # "a handful", when the class has at least twice as many
HOLD_BACK_SEED = 20240605  # fixed: the split must not move between retrains
DEFAULT_WEIGHT = 10  # each feedback sample is seen this many times per epoch (oversampling)


@dataclass(frozen=True)
class FeedbackSplit:
    """train_x/train_y for training, held_x/held_y for scoring (uint8 (n, 28, 28), (n,))."""

    train_x: np.ndarray
    train_y: np.ndarray
    held_x: np.ndarray
    held_y: np.ndarray

    def trainable(self, classes: int) -> tuple[np.ndarray, np.ndarray]:
        """The training drawings a network with ``classes`` outputs can learn from: images
        (m, 28, 28) and labels (m,). Those labelled "not a digit" (10) need an eleventh output."""
        usable = self.train_y < classes
        return self.train_x[usable], self.train_y[usable]

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for a in (self.train_x, self.train_y, self.held_x, self.held_y):
            digest.update(np.ascontiguousarray(a).tobytes())
        return digest.hexdigest()[:16]


def _hash_unit(pixels: np.ndarray, label: int, seed: int) -> float:
    """A sample's fixed pseudo-random number in [0, 1)."""
    data = np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()
    digest = hashlib.sha256(f"{seed}:{label}:".encode() + data).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def held_back_mask(
    x: np.ndarray,
    y: np.ndarray,
    share: float = HOLD_BACK_SHARE,
    minimum: int = MIN_HELD_BACK_PER_CLASS,
    seed: int = HOLD_BACK_SEED,
) -> np.ndarray:
    """(n,) bool: which samples are held back: those whose hash u < share, and in each class of k
    samples at least the ``min(minimum, k // 2)`` with the lowest u."""
    y = np.asarray(y)
    mask = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        units = np.array([_hash_unit(x[i], int(label), seed) for i in members])
        order = np.argsort(units, kind="stable")
        chosen = (units < share) | (np.argsort(order) < min(minimum, len(members) // 2))
        mask[members[chosen]] = True
    return mask


def split_feedback(x: np.ndarray, y: np.ndarray, **options) -> FeedbackSplit:
    """x (n, 28, 28) uint8, y (n,) → the training part and the fixed held-back part."""
    x = np.asarray(x, dtype=np.uint8).reshape(len(x), 28, 28)
    y = np.asarray(y, dtype=np.uint8)
    held = held_back_mask(x, y, **options)
    return FeedbackSplit(x[~held], y[~held], x[held], y[held])
