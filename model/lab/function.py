"""Experiment 1: a neural network is a function. The lecture's three-layer sigmoid example.

The slide draws a network of two inputs, three layers of two sigmoid neurons, and writes each
neuron's weights on its arrows. In the lecture's notation a layer is a = σ(W·x + b) with one row
of W per neuron:

    W¹ = [[1, −2], [−1, 1]]   b¹ = [1, 0]
    W² = [[2, −1], [−2, −1]]  b² = [0, 0]
    W³ = [[3, −1], [−1, 4]]   b³ = [−2, 2]

and it works both inputs through every layer: (1, −1) → (0.98, 0.12) → (0.86, 0.11) →
(0.62, 0.83), and (0, 0) → (0.73, 0.50) → (0.72, 0.12) → (0.51, 0.85). ``model/network.py``
computes a·W + b on rows, so it gets the transposes; its ``layer_outputs(output="activation")``
keeps the sigmoid on the last layer.
"""

from __future__ import annotations

import numpy as np

from model.lab import sections as S
from model.lab.job import Job, Settings
from model.network import MLP

ID, NUMBER, TITLE = "function", 1, "A network is a function"

LECTURE_W = [[[1, -2], [-1, 1]], [[2, -1], [-2, -1]], [[3, -1], [-1, 4]]]
LECTURE_B = [[1, 0], [0, 0], [-2, 2]]
# (input, the slide's figures after layers 1, 2 and 3: the last is the output)
LECTURE_FIGURES = [
    ((1, -1), ((0.98, 0.12), (0.86, 0.11), (0.62, 0.83))),
    ((0, 0), ((0.73, 0.50), (0.72, 0.12), (0.51, 0.85))),
]


def lecture_network(dtype=np.float64) -> MLP:
    """The slide's network as an MLP: sizes [2, 2, 2, 2], sigmoid, weights transposed."""
    return MLP(
        [2, 2, 2, 2],
        "sigmoid",
        weights=[np.array(w, dtype=dtype).T for w in LECTURE_W],
        biases=[np.array(b, dtype=dtype) for b in LECTURE_B],
        dtype=dtype,
    )


def by_hand(x: tuple[float, float]) -> list[list[float]]:
    """The same three layers in plain Python, neuron by neuron, as the slide computes them."""
    import math

    a, layers = list(x), []
    for w, b in zip(LECTURE_W, LECTURE_B):
        z = [sum(wi * ai for wi, ai in zip(row, a)) + bj for row, bj in zip(w, b)]
        a = [1 / (1 + math.exp(-zj)) for zj in z]
        layers.append(a)
    return layers


def run(params: dict, data, progress) -> dict:
    net = lecture_network()
    x = np.array([f[0] for f in LECTURE_FIGURES], dtype=np.float64)
    outputs = net.layer_outputs(x, output="activation")
    return {"inputs": x.tolist(), "layers": [o.tolist() for o in outputs]}


def plan(settings: Settings) -> list[Job]:
    return [Job(ID, "forward", "the lecture's example network", run, {}, 0.01)]


def _pair(values, places: int) -> str:
    """Two numbers as the slide writes them, with a real minus sign."""
    return "(" + ", ".join(f"{v:.{places}f}".replace("-", "−") for v in values) + ")"


def summarise(settings: Settings, results: dict) -> dict:
    layers = results["forward"]["layers"]
    rows, matches, ours = [], [], {}
    for i, (x, figures) in enumerate(LECTURE_FIGURES):
        hand = by_hand(x)
        for k, (slide, layer) in enumerate(zip(figures, layers)):
            mine = layer[i][:2]
            matches.append([round(v, 2) for v in mine] == list(slide))
            ours[x, k] = _pair(mine, 2)
            gap = max(abs(o - h) for o, h in zip(mine, hand[k]))
            rows.append(
                [
                    _pair(x, 0),
                    f"{k + 1} (output)" if k == len(figures) - 1 else str(k + 1),
                    _pair(slide, 2),
                    ours[x, k],
                    _pair(mine, 15),
                    f"{gap:.1e}",
                ]
            )
    confirmed = all(matches)
    return S.section(
        NUMBER,
        ID,
        TITLE,
        claim=(
            "A neural network is a function: give it a vector, it gives back a vector. The "
            "lecture's example, three layers of two sigmoid neurons with the weights on the "
            "slide, maps (1, −1) to (0.62, 0.83) and (0, 0) to (0.51, 0.85), by way of "
            "(0.98, 0.12) and (0.86, 0.11), and of (0.73, 0.50) and (0.72, 0.12)."
        ),
        setup=(
            "The slide's weights in `model/network.py`'s MLP (sizes [2, 2, 2, 2], sigmoid on "
            "every layer, the output included, in float64). The lecture writes a layer as "
            "σ(W·a + b) with a column vector a; the MLP computes σ(a·W + b) on rows, so it holds "
            "each W transposed. The same numbers are also worked out neuron by neuron in plain "
            "Python, as the slide does."
        ),
        tables=[
            S.table(
                "function-figures",
                "The slide's figures and the network's, layer by layer",
                ["input", "layer", "slide", "ours", "ours, full precision", "ours − by hand"],
                rows,
                "Rounded to two decimals, as on the slide. The last column is the largest "
                "difference between the matrix computation and the neuron-by-neuron one.",
            ),
        ],
        charts=[],
        anchors=S.table(
            "function-anchors",
            "Against the published figures",
            ["source", "figure", "ours"],
            [
                [
                    "Lee, Deep Learning Tutorial, lecture I",
                    "f(1, −1) = (0.62, 0.83)",
                    ours[(1, -1), 2],
                ],
                ["", "layer 1 of (1, −1) = (0.98, 0.12)", ours[(1, -1), 0]],
                ["", "f(0, 0) = (0.51, 0.85)", ours[(0, 0), 2]],
                ["", "layer 1 of (0, 0) = (0.73, 0.50)", ours[(0, 0), 0]],
            ],
        ),
        verdict="confirmed" if confirmed else "not confirmed",
        why=(
            "Every figure on the slide comes out of the project's network to two decimals, "
            "and the matrix form agrees with the neuron-by-neuron sum to rounding error."
            if confirmed
            else "At least one figure on the slide differs from the network's at two decimals."
        ),
        runs=[
            {"input": list(f[0]), "output": [layers[-1][i][0], layers[-1][i][1]]}
            for i, f in enumerate(LECTURE_FIGURES)
        ],
    )
