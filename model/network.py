"""A fully connected network with a softmax output, written as matrix operations.

Every layer computes z = a·W + b for a whole mini-batch at once: ``a`` is (n, fan_in), ``W`` is
(fan_in, fan_out) and ``b`` is (fan_out,). Hidden layers apply an activation; the last layer
applies softmax, so a forward pass returns (n, classes) probabilities whose rows sum to 1.

The lecture writes one layer as a¹ = σ(W¹ a⁰ + b¹), with a column vector a⁰ (one sample) and W¹
of shape (fan_out, fan_in), one row per neuron. Here a sample is a row, so the same layer is
a¹ = σ(a⁰ · W + b) with W = (W¹)ᵀ; the rows of a mini-batch stack n samples, and one matrix
product then does the work of n of the lecture's. The whole network is the lecture's nested
function y = f(x) = σ(W^L … σ(W² σ(W¹ x + b¹) + b²) … + b^L), with softmax as the last σ.

Backpropagation (``backward_``) runs the chain rule from the output down, one matrix product per
layer. With δˡ = ∂L/∂zˡ, in this batch-first layout:

    δᴸ          = ∂L/∂zᴸ                         (the loss gives it: p − y for cross-entropy)
    δˡ          = (δˡ⁺¹ · Wˡ⁺¹ᵀ) ⊙ σ'(zˡ)          (the lecture's δˡ = σ'(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹)
    ∂L/∂Wˡ      = aˡ⁻¹ᵀ · δˡ                       (a sum over the batch's rows; a⁰ = x)
    ∂L/∂bˡ      = Σ_rows δˡ

The training path works in preallocated buffers (a ``Workspace``) so that the hot loop does not
allocate; ``predict`` is the simple path for serving and evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class Activation:
    """An element-wise nonlinearity applied in place; its derivative is written via its output."""

    name: str

    def forward_(self, z: np.ndarray) -> None:
        """Overwrite z with the activation of z."""
        raise NotImplementedError

    def backward_(self, delta: np.ndarray, a: np.ndarray, scratch: np.ndarray) -> None:
        """Multiply delta in place by the derivative at the point whose output was a."""
        raise NotImplementedError

    def init_scale(self, fan_in: int, fan_out: int) -> tuple[str, float]:
        """The initialisation this activation wants: ("normal", std) or ("uniform", limit)."""
        raise NotImplementedError


class ReLU(Activation):
    name = "relu"

    def forward_(self, z):
        np.maximum(z, 0, out=z)

    def backward_(self, delta, a, scratch):
        # relu'(z) is 1 where the output is positive and 0 elsewhere.
        np.greater(a, 0, out=scratch)
        delta *= scratch

    def init_scale(self, fan_in, fan_out):
        return "normal", float(np.sqrt(2.0 / fan_in))  # He et al. 2015


class Sigmoid(Activation):
    name = "sigmoid"

    def forward_(self, z):
        with np.errstate(over="ignore"):  # exp(-z) overflows to inf for z << 0; 1/inf = 0 is right
            np.negative(z, out=z)
            np.exp(z, out=z)
        z += 1
        np.reciprocal(z, out=z)

    def backward_(self, delta, a, scratch):
        np.subtract(1, a, out=scratch)  # sigmoid' = a(1 - a)
        scratch *= a
        delta *= scratch

    def init_scale(self, fan_in, fan_out):
        return "uniform", float(np.sqrt(6.0 / (fan_in + fan_out)))  # Glorot & Bengio 2010


class Tanh(Activation):
    name = "tanh"

    def forward_(self, z):
        np.tanh(z, out=z)

    def backward_(self, delta, a, scratch):
        np.multiply(a, a, out=scratch)  # tanh' = 1 - a²
        np.subtract(1, scratch, out=scratch)
        delta *= scratch

    def init_scale(self, fan_in, fan_out):
        return "uniform", float(np.sqrt(6.0 / (fan_in + fan_out)))


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (ReLU(), Sigmoid(), Tanh())}


def softmax_(z: np.ndarray) -> None:
    """Overwrite each row of z (n, k) with its softmax. Subtracting the row max avoids overflow."""
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)


@dataclass
class Workspace:
    """Buffers for one mini-batch size, reused by every step of training.

    ``activations[l]`` is (batch, sizes[l]) for l ≥ 1 (the input is not copied); ``deltas[l]`` has
    the same shape and holds dL/dz for layer l; ``grad_w`` and ``grad_b`` match the parameters.
    """

    batch: int
    activations: list[np.ndarray]
    deltas: list[np.ndarray]
    scratch: list[np.ndarray]
    grad_w: list[np.ndarray]
    grad_b: list[np.ndarray]


class MLP:
    """A multilayer perceptron. sizes = [784, hidden..., 10].

    weights[l] is (sizes[l], sizes[l+1]) and biases[l] is (sizes[l+1],).
    """

    def __init__(
        self,
        sizes: list[int],
        activation: str = "relu",
        *,
        weights: list[np.ndarray] | None = None,
        biases: list[np.ndarray] | None = None,
        seed: int = 0,
        dtype: type = np.float32,
    ):
        if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
            raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.sizes = [int(s) for s in sizes]
        self.activation = ACTIVATIONS[activation]
        if weights is None or biases is None:
            weights, biases = self._initial_parameters(np.random.default_rng(seed), dtype)
        self.weights = [np.ascontiguousarray(w, dtype=dtype) for w in weights]
        self.biases = [np.ascontiguousarray(b, dtype=dtype) for b in biases]
        expected = list(zip(self.sizes[:-1], self.sizes[1:], strict=True))
        if [w.shape for w in self.weights] != expected or [b.shape for b in self.biases] != [
            (o,) for _, o in expected
        ]:
            raise ValueError(f"parameter shapes do not match sizes {self.sizes}")

    def _initial_parameters(self, rng: np.random.Generator, dtype):
        weights, biases = [], []
        for layer, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            # The output layer is linear before softmax: Glorot suits it whatever the hidden units.
            act = self.activation if layer < len(self.sizes) - 2 else ACTIVATIONS["sigmoid"]
            kind, scale = act.init_scale(fan_in, fan_out)
            if kind == "normal":
                w = rng.standard_normal((fan_in, fan_out)) * scale
            else:
                w = rng.uniform(-scale, scale, (fan_in, fan_out))
            weights.append(w.astype(dtype))
            biases.append(np.zeros(fan_out, dtype=dtype))
        return weights, biases

    @property
    def dtype(self):
        return self.weights[0].dtype

    @property
    def parameters(self) -> list[np.ndarray]:
        """Weights then biases, layer by layer: the order optimisers and checksums use."""
        return [p for wb in zip(self.weights, self.biases) for p in wb]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """x (n, sizes[0]) → probabilities (n, sizes[-1]), each row summing to 1."""
        a = np.asarray(x, dtype=self.dtype)
        if a.ndim != 2 or a.shape[1] != self.sizes[0]:
            raise ValueError(f"expected input of shape (n, {self.sizes[0]}), got {a.shape}")
        last = len(self.weights) - 1
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            a = a @ w  # zˡ = aˡ⁻¹·Wˡ + bˡ
            a += b
            if layer < last:
                self.activation.forward_(a)  # aˡ = σ(zˡ)
        softmax_(a)
        return a

    def layer_outputs(self, x: np.ndarray, *, output: str = "softmax") -> list[np.ndarray]:
        """x (n, sizes[0]) → every layer's output [a¹ (n, sizes[1]), …, aᴸ (n, sizes[-1])].

        ``output="softmax"`` ends with the network's softmax, so the last entry equals
        ``predict(x)``. ``output="activation"`` applies the hidden activation to the last layer
        too: the lecture's first example is a network of sigmoids all the way to its output.
        ``output="scores"`` leaves the last layer's zᴸ as it is, before softmax.
        """
        if output not in ("softmax", "activation", "scores"):
            raise ValueError(f"output must be 'softmax', 'activation' or 'scores', got {output!r}")
        a = np.asarray(x, dtype=self.dtype)
        if a.ndim != 2 or a.shape[1] != self.sizes[0]:
            raise ValueError(f"expected input of shape (n, {self.sizes[0]}), got {a.shape}")
        outputs = []
        last = len(self.weights) - 1
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            a = a @ w
            a += b
            if layer < last or output == "activation":
                self.activation.forward_(a)
            elif output == "softmax":
                softmax_(a)
            outputs.append(a)
        return outputs

    # --- training path: preallocated buffers, no allocation per batch ---------------------------

    def workspace(self, batch: int) -> Workspace:
        """Buffers for mini-batches of up to ``batch`` rows."""

        def buffers(sizes, dtype=self.dtype):
            return [np.empty((batch, s), dtype=dtype) for s in sizes]

        return Workspace(
            batch=batch,
            activations=buffers(self.sizes[1:]),
            deltas=buffers(self.sizes[1:]),
            scratch=buffers(self.sizes[1:-1]),
            grad_w=[np.empty_like(w) for w in self.weights],
            grad_b=[np.empty_like(b) for b in self.biases],
        )

    def forward_(self, x: np.ndarray, ws: Workspace) -> np.ndarray:
        """x (n, sizes[0]) with n ≤ ws.batch → probabilities (n, classes), a view into ws."""
        n = x.shape[0]
        a = x
        last = len(self.weights) - 1
        for layer, (w, b) in enumerate(zip(self.weights, self.biases)):
            # zˡ = aˡ⁻¹·Wˡ + bˡ, then aˡ = σ(zˡ), overwriting z in place: the backward pass
            # needs only aˡ, since σ' is written through the output (sigmoid' = a(1 − a)).
            z = ws.activations[layer][:n]
            np.matmul(a, w, out=z)
            z += b
            if layer < last:
                self.activation.forward_(z)
            a = z
        softmax_(a)  # y = softmax(zᴸ)
        return a

    def backward_(self, x: np.ndarray, ws: Workspace, delta_out: np.ndarray) -> None:
        """Backpropagate dL/dz of the output layer (n, classes) into ws.grad_w and ws.grad_b.

        Must follow ``forward_`` on the same x and ws, whose activations it reads.
        """
        n = x.shape[0]
        delta = delta_out  # δᴸ = ∂L/∂zᴸ (n, classes), from the loss
        for layer in range(len(self.weights) - 1, -1, -1):
            a_in = x if layer == 0 else ws.activations[layer - 1][:n]
            # ∂L/∂Wˡ = aˡ⁻¹ᵀ·δˡ and ∂L/∂bˡ = Σ_rows δˡ: one product sums the n samples' gradients.
            np.matmul(a_in.T, delta, out=ws.grad_w[layer])
            np.sum(delta, axis=0, out=ws.grad_b[layer])
            if layer > 0:
                # δˡ⁻¹ = (δˡ·Wˡᵀ) ⊙ σ'(zˡ⁻¹): the error flows back through the same weights,
                # then each unit scales it by its activation's slope (σ' read through aˡ⁻¹).
                below = ws.deltas[layer - 1][:n]
                np.matmul(delta, self.weights[layer].T, out=below)
                self.activation.backward_(below, a_in, ws.scratch[layer - 1][:n])
                delta = below

    def gradients(self, x: np.ndarray, y: np.ndarray, loss) -> tuple[float, list[np.ndarray]]:
        """Mean loss over the batch and its gradient for every parameter (in ``parameters`` order).

        A convenience over forward_/backward_ for tests and notebooks; training uses those directly.
        """
        ws = self.workspace(x.shape[0])
        x = np.asarray(x, dtype=self.dtype)
        probs = self.forward_(x, ws)
        value = loss.value(probs, y)
        delta = ws.deltas[-1][: x.shape[0]]
        loss.delta(probs, y, out=delta)
        self.backward_(x, ws, delta)
        return value, [g.copy() for gw in zip(ws.grad_w, ws.grad_b) for g in gw]
