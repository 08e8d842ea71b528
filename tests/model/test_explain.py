"""The explanation of one answer: a hand-made network, the exact split for ReLU, the network's
own forward pass, and the gradient against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from model.explain import explain, unit_order
from model.network import MLP


def test_a_tiny_network_explained_by_hand():
    """3 inputs → 2 ReLU units → 2 scores, every number worked out on paper:
    z1 = x·W1 + b1 = (2.5, 0) → a1 = (2.5, 0); z2 = a1·W2 + b2 = (2.5, 5.5): digit 1, then 0.
    δ2 = (0, 1) → δ1 = δ2·W2ᵀ ⊙ relu' = (2, 1) ⊙ (1, 0) = (2, 0) → ∂z_1/∂x = δ1·W1ᵀ = (2, 4, 0);
    evidence = x ⊙ (2, 4, 0) = (2, 2, 0); biases: δ2·b2 + δ1·b1 = 0.5 + 1 = 1.5; 4 + 1.5 = 5.5.
    For z_1 − z_0: δ2 = (−1, 1) → δ1 = (1, 0) → gradient (1, 2, 0) → (1, 1, 0); biases 0.5 + 0.5.
    """
    w1 = np.array([[1.0, -1.0], [2.0, 0.0], [0.0, 1.0]])
    w2 = np.array([[1.0, 2.0], [-1.0, 1.0]])
    network = MLP(
        [3, 2, 2], "relu", weights=[w1, w2], biases=[np.array([0.5, -1.0]), np.array([0.0, 0.5])]
    )
    e = explain(network, np.array([1.0, 0.5, 2.0]))
    np.testing.assert_allclose(e.layers[0], [2.5, 0.0])
    np.testing.assert_allclose(e.scores, [2.5, 5.5])
    assert (e.digit, e.runner_up) == (1, 0)
    np.testing.assert_allclose(e.evidence, [2.0, 2.0, 0.0])
    assert e.bias_part == pytest.approx(1.5)
    np.testing.assert_allclose(e.contrast, [1.0, 1.0, 0.0])
    assert e.contrast_bias_part == pytest.approx(1.0)
    np.testing.assert_allclose(
        e.probabilities, np.exp([2.5, 5.5]) / np.exp([2.5, 5.5]).sum(), rtol=1e-6
    )
    assert e.exact


def _digits(n: int, seed: int) -> np.ndarray:
    """n inputs that look like MNIST: mostly zero, some ink."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 784)) * (rng.uniform(0, 1, (n, 784)) < 0.2)
    return x.astype(np.float32)


@pytest.mark.parametrize("sizes", [[784, 10], [784, 64, 10], [784, 64, 48, 32, 10]])
def test_for_relu_the_map_plus_the_biases_is_the_score(sizes):
    network = MLP(sizes, "relu", seed=3)
    for b in network.biases:  # nonzero biases, so that their part is tested too
        b[...] = np.random.default_rng(4).normal(0, 0.1, b.shape)
    for x in _digits(5, seed=len(sizes)):
        e = explain(network, x)
        d, r = e.digit, e.runner_up
        assert e.evidence.sum() + e.bias_part == pytest.approx(float(e.scores[d]), abs=1e-4)
        margin = float(e.scores[d] - e.scores[r])
        assert e.contrast.sum() + e.contrast_bias_part == pytest.approx(margin, abs=1e-4)
        assert e.evidence[x == 0].max(initial=0) == 0  # no ink, no evidence
        assert e.exact


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_the_layers_and_probabilities_are_the_networks_own(activation):
    network = MLP([784, 32, 16, 10], activation, seed=1)
    x = _digits(4, seed=7)
    ws = network.workspace(4)
    network.forward_(x, ws)
    for i in range(4):
        e = explain(network, x[i])
        predicted = network.predict(x[i : i + 1])[0]  # one row, as /api/predict sends it
        assert np.array_equal(e.probabilities, predicted)  # bit for bit
        for layer, values in enumerate(e.layers):
            np.testing.assert_allclose(values, ws.activations[layer][i], rtol=1e-5, atol=1e-6)
        assert e.digit == int(np.argmax(predicted))
        assert e.exact is (activation == "relu")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_the_evidence_is_x_times_the_gradient_of_the_score(activation):
    """Against central finite differences of the score z_digit in float64."""
    network = MLP([784, 20, 10], activation, seed=2, dtype=np.float64)
    x = _digits(1, seed=9)[0].astype(np.float64)
    e = explain(network, x)

    def score(v: np.ndarray) -> float:
        a = v
        for w, b in zip(network.weights[:-1], network.biases[:-1]):
            a = a @ w + b
            network.activation.forward_(a)
        return float((a @ network.weights[-1] + network.biases[-1])[e.digit])

    inked = np.flatnonzero(x)[:25]
    eps = 1e-6
    for i in inked:
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        gradient = (score(up) - score(down)) / (2 * eps)
        assert e.evidence[i] == pytest.approx(x[i] * gradient, rel=1e-5, abs=1e-8)


def test_units_are_ordered_by_the_spread_of_their_weights():
    network = MLP([784, 8, 10], seed=0)
    network.weights[0][:, 5] *= 10
    network.weights[0][:, 2] *= 0.01
    order = unit_order(network)
    assert order[0] == 5 and order[-1] == 2 and sorted(order) == list(range(8))
