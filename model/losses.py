"""Losses on softmax outputs. Each is a small object: ``value`` and ``delta`` (as in Nielsen's
network2.py), where delta is dL/dz of the output layer, the pre-softmax scores.

Both take probabilities p (n, k) and integer labels y (n,), and average over the n rows, so the
learning rate does not depend on the batch size. Summed over the training set, ``value`` is the
lecture's total loss L.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


class CrossEntropy:
    """L = −log p[y]. Fused with softmax, its gradient is simply p − onehot(y)."""

    name = "cross-entropy"

    def value(self, probs: np.ndarray, y: np.ndarray) -> float:
        picked = probs[np.arange(len(y)), y]
        return float(-np.log(np.maximum(picked, _EPS)).mean())

    def delta(self, probs: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        n = len(y)
        np.copyto(out, probs)
        out[np.arange(n), y] -= 1
        out /= n
        return out


class SquaredError:
    """L = Σ_k (p_k − onehot(y)_k)², the lecture's "Euclidean distance" between output and target.

    Through the softmax Jacobian: dL/dz_i = p_i (g_i − Σ_j p_j g_j), with g = 2(p − onehot(y)).
    """

    name = "squared"

    def value(self, probs: np.ndarray, y: np.ndarray) -> float:
        diff = probs.astype(np.float64, copy=True)
        diff[np.arange(len(y)), y] -= 1
        return float((diff * diff).sum(axis=1).mean())

    def delta(self, probs: np.ndarray, y: np.ndarray, out: np.ndarray) -> np.ndarray:
        n = len(y)
        np.copyto(out, probs)
        out[np.arange(n), y] -= 1
        out *= 2.0 / n  # out is now g / n
        dot = (out * probs).sum(axis=1, keepdims=True)
        out -= dot
        out *= probs
        return out


LOSSES = {loss.name: loss for loss in (CrossEntropy(), SquaredError())}
