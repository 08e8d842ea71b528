"""What the network computed for one drawing, layer by layer, and which ink pushed the answer.

The forward pass is the network's own (``MLP.predict``), with every step kept: for the input
a⁰ (784,), each layer l computes

    z^l = a^{l-1} · W^l + b^l         (the lecture's z = W·a + b, batch-first)
    a^l = σ(z^l)  for a hidden layer  (ReLU, sigmoid or tanh)
    p   = softmax(z^L)                the ten probabilities; z^L are the digits' scores

**Evidence** is *gradient × input*: for a score z_d, each pixel's ink times how much z_d moves
with it, e_i = x_i · ∂z_d/∂x_i. The gradient comes from the backpropagation recursion run from
the score itself (not from a loss): δ^L = onehot(d), δ^{l-1} = (δ^l · W^lᵀ) ⊙ σ'(z^{l-1}), and
∂z_d/∂x = δ^1 · W^1ᵀ.

For a ReLU network the split is exact. Within the region of inputs where the same units are
active, z_d is linear in x and in the biases, so

    z_d = Σ_i x_i ∂z_d/∂x_i + Σ_l b^l · δ^l     (the map, plus what the biases contribute)

For sigmoid and tanh it is a first-order reading only, and ``exact`` says so.

The contrast "why d and not r" is the same map for z_d − z_r: pixels that favour d over r.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.network import MLP, softmax_

METHOD = "gradient_x_input"


@dataclass(frozen=True)
class Explanation:
    """One drawing through the network. Shapes are for a [784, h1, …, 10] network."""

    layers: list[np.ndarray]  # each hidden layer's activations a^l, (h_l,)
    scores: np.ndarray  # z^L, (k,): the scores before softmax (k = 10, or 11 with "not a digit")
    probabilities: np.ndarray  # softmax(z^L), (k,): the network's own, before any calibration
    digit: int  # the digit with the highest score
    runner_up: int  # the second
    evidence: np.ndarray  # (784,) x · ∂z_digit/∂x
    contrast: np.ndarray  # (784,) x · ∂(z_digit − z_runner_up)/∂x
    bias_part: float  # Σ_l b^l · δ^l for z_digit
    contrast_bias_part: float  # the same for z_digit − z_runner_up
    exact: bool  # evidence.sum() + bias_part == scores[digit] (a ReLU network)


def explain(network: MLP, x: np.ndarray) -> Explanation:
    """x (784,) in MNIST form → the explanation of the network's answer for it.

    The forward pass is ``MLP.layer_outputs``, so the probabilities are exactly the ones a
    prediction gives. Both passes run in the network's own precision (float32 for a served
    model: the split is then exact to about 1e-5 of the score).
    """
    *outputs, z = network.layer_outputs(np.reshape(x, (1, -1)), output="scores")
    scores = z[0].copy()
    softmax_(z)  # the very operations of MLP.predict, so the probabilities are its own
    probabilities = z[0]
    last = len(network.weights) - 1
    # The two highest digits (an eleventh output, "not a digit", is never one of them).
    digit, runner_up = (int(i) for i in np.argsort(-scores[:10], kind="stable")[:2])

    # Backward from two score combinations at once: z_digit, and z_digit − z_runner_up. In the
    # network's own precision: converting its weights to float64 would cost more than the rest.
    delta = np.zeros((2, len(scores)), dtype=network.dtype)
    delta[:, digit] = 1.0
    delta[1, runner_up] = -1.0
    bias_parts = delta @ network.biases[-1]
    for layer in range(last, 0, -1):
        below = outputs[layer - 1]  # a^{layer}: this layer's input
        delta = delta @ network.weights[layer].T
        network.activation.backward_(delta, below, np.empty_like(below))  # ⊙ σ'(z)
        bias_parts += delta @ network.biases[layer - 1]
    gradient = delta @ network.weights[0].T  # (2, 784): ∂/∂x of both
    maps = gradient.astype(np.float64) * np.asarray(x, dtype=np.float64).reshape(1, -1)
    return Explanation(
        layers=[o[0] for o in outputs],
        scores=scores,
        probabilities=probabilities,
        digit=digit,
        runner_up=runner_up,
        evidence=maps[0],
        contrast=maps[1],
        bias_part=float(bias_parts[0]),
        contrast_bias_part=float(bias_parts[1]),
        exact=network.activation.name == "relu",
    )


def unit_order(network: MLP) -> np.ndarray:
    """First-layer units, the most varied first: indices (h1,) by the spread (standard
    deviation) of their 784 incoming weights, largest first."""
    return np.argsort(-network.weights[0].std(axis=0), kind="stable")
