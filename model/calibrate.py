"""Confidence that means what it says: a temperature for the digits' softmax, and its measures.

A network's softmax is sure of itself: on drawn digits, answers it gives 87–93 % were right 82 %
of the time. Temperature scaling (Guo et al. 2017) divides the ten digit scores by one number T
before the softmax,

    p_k = exp(z_k / T) / Σ_j exp(z_j / T),

which keeps every answer (the order of the scores does not change) and makes T > 1 less sure.
T is fitted by minimising the negative log-likelihood −(1/n) Σ log p_y on drawings held out for
it: one parameter, found by a golden-section search over log T.

Calibration is measured as the expected calibration error over 15 equal-width bins of the top
probability: ECE = Σ_b (n_b / n) · |accuracy_b − confidence_b|, and bin by bin (``reliability``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BINS = 15


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """scores (n, k) → probabilities (n, k) of softmax(scores / temperature), float64."""
    z = np.asarray(scores, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def negative_log_likelihood(scores: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    p = softmax(scores, temperature)
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(labels)), labels], 1e-300))))


def fit_temperature(
    scores: np.ndarray, labels: np.ndarray, low: float = 0.25, high: float = 8.0, steps: int = 60
) -> float:
    """The T in [low, high] that minimises the NLL of labels (n,) under softmax(scores / T)."""
    labels = np.asarray(labels, dtype=np.intp)
    a, b = math.log(low), math.log(high)
    ratio = (math.sqrt(5) - 1) / 2

    def loss(log_t: float) -> float:
        return negative_log_likelihood(scores, labels, math.exp(log_t))

    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(c), loss(d)
    for _ in range(steps):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(d)
    return math.exp((a + b) / 2)


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int
    confidence: float  # the mean top probability of the answers in the bin
    accuracy: float  # how many of them were right


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = BINS) -> list[Bin]:
    """The answers (n, k) grouped by top probability into equal-width bins (empty ones left out)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    result = []
    for low, high in zip(edges[:-1], edges[1:]):
        members = (confidence > low) & (confidence <= high)
        if members.any():
            mean = float(confidence[members].mean())
            accuracy = float(correct[members].mean())
            result.append(Bin(float(low), float(high), int(members.sum()), mean, accuracy))
    return result


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray) -> float:
    table = reliability(probabilities, labels)
    total = sum(b.count for b in table)
    return sum(b.count / total * abs(b.accuracy - b.confidence) for b in table)
