"""Experiment 1: a neural network is a function. The lecture's three-layer sigmoid example.

The slide draws a network of two inputs, three layers of two sigmoid neurons, and writes each
neuron's weights on its arrows. In the lecture's notation a layer is a = σ(W·x + b) with one row
of W per neuron:

    W¹ = [[1, −2], [−1, 1]]   b¹ = [1, 0]
    W² = [[2, −1], [−2, −1]]  b² = [0, 0]
    W³ = [[3, −1], [−1, 4]]   b³ = [−2, 2]

and it reads off f(1, −1) = (0.62, 0.83), f(0, 0) = (0.51, 0.85), and (0.98, 0.12) after the
first layer for the input (1, −1). ``model/network.py`` computes a·W + b on rows, so it gets the
transposes; its ``layer_outputs(output="activation")`` keeps the sigmoid on the last layer.
"""

from __future__ import annotations

import numpy as np

from model.lab import sections as S
from model.lab.job import Job, Settings
from model.network import MLP

ID, NUMBER, TITLE = "function", 1, "A network is a function"

LECTURE_W = [[[1, -2], [-1, 1]], [[2, -1], [-2, -1]], [[3, -1], [-1, 4]]]
LECTURE_B = [[1, 0], [0, 0], [-2, 2]]
# (input, the slide's figure after layer 1 or None, the slide's output)
LECTURE_FIGURES = [((1, -1), (0.98, 0.12), (0.62, 0.83)), ((0, 0), None, (0.51, 0.85))]


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


def summarise(settings: Settings, results: dict) -> dict:
    layers = results["forward"]["layers"]
    rows, matches = [], []
    for i, (x, first, output) in enumerate(LECTURE_FIGURES):
        hand = by_hand(x)
        ours_first = [layers[0][i][0], layers[0][i][1]]
        ours_out = [layers[-1][i][0], layers[-1][i][1]]
        ok = [round(v, 2) for v in ours_out] == list(output)
        if first is not None:
            ok = ok and [round(v, 2) for v in ours_first] == list(first)
        matches.append(ok)
        gap = max(abs(o - h) for o, h in zip(ours_out, hand[-1]))
        rows.append(
            [
                f"({x[0]}, {x[1]})",
                f"({first[0]:.2f}, {first[1]:.2f})" if first else "not on the slide",
                f"({ours_first[0]:.2f}, {ours_first[1]:.2f})",
                f"({output[0]:.2f}, {output[1]:.2f})",
                f"({ours_out[0]:.2f}, {ours_out[1]:.2f})",
                f"({ours_out[0]:.15f}, {ours_out[1]:.15f})",
                f"{gap:.1e}",
            ]
        )
    every_layer = [
        [f"({x[0]}, {x[1]})"] + [f"({a[i][0]:.4f}, {a[i][1]:.4f})" for a in layers]
        for i, (x, _, _) in enumerate(LECTURE_FIGURES)
    ]
    confirmed = all(matches)
    return S.section(
        NUMBER,
        ID,
        TITLE,
        claim=(
            "A neural network is a function: give it a vector, it gives back a vector. The "
            "lecture's example, three layers of two sigmoid neurons with the weights on the "
            "slide, maps (1, −1) to (0.62, 0.83) and (0, 0) to (0.51, 0.85); after its first "
            "layer, (1, −1) has become (0.98, 0.12)."
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
                "The slide's figures and the network's",
                [
                    "input",
                    "layer 1, slide",
                    "layer 1, ours",
                    "output, slide",
                    "output, ours",
                    "output, full precision",
                    "ours − by hand",
                ],
                rows,
                "Rounded to two decimals, as on the slide. The last column is the largest "
                "difference between the matrix computation and the neuron-by-neuron one.",
            ),
            S.table(
                "function-layers",
                "Every layer's output",
                ["input", "layer 1", "layer 2", "layer 3 (output)"],
                every_layer,
            ),
        ],
        charts=[],
        anchors=S.table(
            "function-anchors",
            "Against the published figures",
            ["source", "figure", "ours"],
            [
                ["Lee, Deep Learning Tutorial, lecture I", "f(1, −1) = (0.62, 0.83)", rows[0][4]],
                ["", "layer 1 of (1, −1) = (0.98, 0.12)", rows[0][2]],
                ["", "f(0, 0) = (0.51, 0.85)", rows[1][4]],
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
