"""Experiment 4: cross-entropy vs squared ("Euclidean") error, with a softmax output.

The lecture: with a softmax output, use cross-entropy. Squared error's surface is flat far from
the target, so training can get stuck. Through the softmax Jacobian the squared error's gradient
is pᵢ(gᵢ − Σⱼ pⱼgⱼ) with g = 2(p − y): when the network is sure of a wrong class (p near
one-hot), every term has a factor near 0, while cross-entropy's gradient p − y stays large.
Nielsen (ch. 3) shows the same slowdown for a saturated sigmoid output; Golik, Doetsch and Ney
2013 found squared error trains from a random start, but worse, and catches up from a good one.

Here: the same network from the same initial weights, once with each loss, from an ordinary start
and from a deliberately saturated one (output weights multiplied by SATURATION, so the softmax is
near one-hot from the start, on one of two or three digits, wrong for ~90 % of images). Each
loss's learning rate is tuned on the validation split from the ordinary start.

(Just over 300 lines: the run, its table, its plot and its verdict are one experiment, read
together.)
"""

from __future__ import annotations

import numpy as np

from model.lab import sections as S
from model.lab.fit import FitConfig, fit, layer_gradient_norms, mean_loss
from model.lab.job import Job, Settings
from model.network import MLP
from model.train import accuracy

ID, NUMBER, TITLE = "losses", 4, "Cross-entropy vs squared error"

HIDDEN = (100,)
ACTIVATION = "sigmoid"  # the lecture's
LOSSES = ("cross-entropy", "squared")
STARTS = ("ordinary", "saturated")
SATURATION = 100.0  # output-layer weights × this: the saturated start
FULL = {"train": None, "epochs": 20, "rates": (0.03, 0.1, 0.3, 1.0, 3.0)}
QUICK = {"train": 5000, "epochs": 3, "rates": (0.1, 0.3, 1.0)}
CONFIG = dict(batch_size=100, momentum=0.0)
CHECKPOINTS = (10, 30, 100, 300, 1000)
PROBE_IMAGES = 1000
SECONDS_PER_EPOCH = 0.35  # 55,000 images (cost estimate only)


def start(seed: int, saturated: bool) -> MLP:
    net = MLP([784, *HIDDEN, 10], ACTIVATION, seed=seed)
    if saturated:
        net.weights[-1] *= np.float32(SATURATION)
    return net


def run(params: dict, data, progress) -> dict:
    images, labels = data.training_subset(params["train"])
    probe_x = data.train_x[:PROBE_IMAGES].astype(np.float32) / np.float32(255)
    probe_y = data.train_y[:PROBE_IMAGES]
    loss = params["loss"]

    def probe(network: MLP) -> dict:
        top = network.predict(probe_x).max(axis=1)
        return {
            "test_accuracy": accuracy(network, data.test_x, data.test_y),
            "loss": mean_loss(network, probe_x, probe_y, loss),
            "output_gradient": layer_gradient_norms(network, probe_x, probe_y, loss)["weight"][-1],
            "confident": float((top > 0.99).mean()),
        }

    net = start(params["seed"], params["start"] == "saturated")
    config = FitConfig(
        loss, params["epochs"], learning_rate=params["rate"], order_seed=params["seed"], **CONFIG
    )
    result = fit(
        net,
        images,
        labels,
        config,
        (data.val_x, data.val_y),
        checkpoints=CHECKPOINTS,
        probe=probe,
        progress=progress,
    )
    return {
        "curve": result.curve,
        "validation_accuracy": result.history[-1]["validation_accuracy"] if result.history else 0,
        "diverged": result.diverged,
    }


def _job(loss, start_, rate, seed, size) -> Job:
    params = {"loss": loss, "start": start_, "rate": rate, "seed": seed, **size}
    n = (size["train"] or 55000) / 55000
    return Job(
        ID,
        f"{loss}/{start_}/{rate}/{seed}",
        f"{loss} {start_} lr {rate} seed {seed}",
        run,
        params,
        SECONDS_PER_EPOCH * n * size["epochs"],
    )


def _size(settings: Settings) -> dict:
    return QUICK if settings.quick else FULL


def plan(settings: Settings) -> list[Job]:
    size = _size(settings)
    return [_job(loss, "ordinary", r, 0, size) for loss in LOSSES for r in size["rates"]]


def tuned_rate(results: dict, loss: str, rates) -> float:
    """The rate whose seed-0 run from the ordinary start ends with the best validation
    accuracy (a diverged run never wins)."""
    scored = [
        (
            -1
            if (r := results[f"{loss}/ordinary/{rate}/0"])["diverged"]
            else r["validation_accuracy"],
            rate,
        )
        for rate in rates
    ]
    return max(scored)[1]


def follow_up(settings: Settings, results: dict) -> list[Job]:
    size = _size(settings)
    jobs = []
    for loss in LOSSES:
        rate = tuned_rate(results, loss, size["rates"])
        jobs += [_job(loss, "ordinary", rate, s, size) for s in range(1, settings.seeds)]
        jobs += [_job(loss, "saturated", rate, s, size) for s in range(settings.seeds)]
    return jobs


def summarise(settings: Settings, results: dict) -> dict:
    size, seeds = _size(settings), settings.seeds
    rates = {loss: tuned_rate(results, loss, size["rates"]) for loss in LOSSES}

    def curves(loss, start_):
        return [results[f"{loss}/{start_}/{rates[loss]}/{s}"]["curve"] for s in range(seeds)]

    def at(loss, start_, epoch, field="test_accuracy"):
        return [
            next(r for r in c if r["epoch"] >= epoch - 1e-9)[field] for c in curves(loss, start_)
        ]

    epochs = size["epochs"]
    rows = []
    for start_ in STARTS:
        for loss in LOSSES:
            rows.append(
                [
                    start_,
                    loss,
                    f"{rates[loss]:g}",
                    S.pct(at(loss, start_, 0, "confident"), 1),
                    S.pct(at(loss, start_, 0)),
                    S.pct(at(loss, start_, 1)),
                    S.pct(at(loss, start_, epochs)),
                    f"{S.sig(S.mean_sd(at(loss, start_, 0, 'output_gradient'))[0])}",
                ]
            )
    columns = [
        "start",
        "loss",
        "learning rate",
        "images predicted with p > 0.99",
        "test accuracy at start",
        "after 1 epoch",
        f"after {epochs} epochs",
        "‖∂L/∂W_out‖ at start",
    ]
    tuning = [
        [loss]
        + [
            (
                "diverged"
                if results[f"{loss}/ordinary/{r}/0"]["diverged"]
                else f"{100 * results[f'{loss}/ordinary/{r}/0']['validation_accuracy']:.2f} %"
            )
            for r in size["rates"]
        ]
        for loss in LOSSES
    ]

    charts = [
        S.line_chart(
            f"losses-{start_}",
            f"Test accuracy from the {start_} start",
            "epoch",
            "test accuracy (%)",
            [
                S.curve_series(loss, curves(loss, start_), "epoch", "test_accuracy", 100)
                for loss in LOSSES
            ],
            y_bounds=S.PERCENT,
        )
        for start_ in STARTS
    ]
    lines = [
        S.curve_series(
            f"{loss}, {start_}",
            curves(loss, start_),
            "updates",
            "output_gradient",
            band=False,
            dashed=start_ == "saturated",
            keep=lambda x: x > 0,
        )
        for start_ in STARTS
        for loss in LOSSES
    ]
    charts.append(
        S.line_chart(
            "losses-gradient",
            "‖∂L/∂W‖ of the output layer while training (the start is in the table)",
            "updates",
            "gradient norm",
            lines,
            x_log=True,
            y_log=True,
        )
    )

    def gap(start_, epoch):
        ce, se = at("cross-entropy", start_, epoch), at("squared", start_, epoch)
        (mc, sc), (ms, ss) = S.mean_sd(ce), S.mean_sd(se)
        return mc - ms, 2 * ((sc**2 + ss**2) / seeds) ** 0.5

    stall, stall_se = gap("saturated", 1)
    end, end_se = gap("ordinary", epochs)
    if abs(end) <= end_se:
        ordinary = "level with squared error (within the seed-to-seed spread)"
    else:
        ordinary = f"{'ahead of' if end > 0 else 'behind'} squared error"
    facts = (
        f"from the saturated start squared error is {100 * stall:.1f} points behind "
        f"cross-entropy after one epoch; from the ordinary start cross-entropy ends {ordinary} "
        f"({100 * end:+.2f} points after {epochs} epochs)"
    )
    if stall > max(stall_se, 0.05):
        verdict, why = "confirmed", f"Squared error stalls where cross-entropy does not: {facts}."
    else:
        verdict, why = "not confirmed", f"No stall at this scale: {facts}."
    ce_sat, se_sat = (S.pct(at(loss, "saturated", 1)) for loss in LOSSES)
    ce_end, se_end = (S.pct(at(loss, "ordinary", epochs)) for loss in LOSSES)
    return S.section(
        NUMBER,
        ID,
        TITLE,
        claim=(
            "With a softmax output layer, use cross-entropy rather than squared (Euclidean) "
            "error: far from the target the squared error's surface is flat, so gradient "
            "descent can get stuck where cross-entropy's steep surface keeps it moving."
        ),
        setup=(
            f"784-{HIDDEN[0]}-10, sigmoid hidden units, softmax output; plain mini-batch gradient "
            f"descent (batch 100, no momentum) for {epochs} epochs on "
            f"{S.count(size['train'] or 55000)} MNIST training images. Both losses start from the "
            f"same weights (the same seed); the saturated start multiplies the output layer's "
            f"weights by {SATURATION:g}. Each loss's learning rate is the best of "
            f"{', '.join(f'{r:g}' for r in size['rates'])} by validation accuracy from the "
            f"ordinary start (seed 0), and is kept for the saturated start; {seeds} seeds each."
        ),
        tables=[
            S.table("losses-table", "Learning from the same weights (mean ± sd)", columns, rows),
            S.table(
                "losses-tuning",
                "Learning-rate search: validation accuracy at the end (seed 0)",
                ["loss", *[f"lr {r:g}" for r in size["rates"]]],
                tuning,
            ),
        ],
        charts=charts,
        anchors=S.table(
            "losses-anchors",
            "Against the published figures",
            ["source", "finding", "ours"],
            [
                [
                    "Nielsen ch. 3",
                    "a saturated output neuron learns slowly under the quadratic cost, "
                    "not under cross-entropy",
                    f"saturated start after 1 epoch: cross-entropy {ce_sat}, squared {se_sat}",
                ],
                [
                    "Golik, Doetsch and Ney 2013",
                    "squared error from a random start trains worse than "
                    "cross-entropy; from a good start they end alike",
                    f"ordinary start after {epochs} epochs: {ce_end} vs {se_end}",
                ],
            ],
        ),
        verdict=verdict,
        why=why,
        runs=[
            {
                "loss": loss,
                "start": st,
                "learning_rate": rates[loss],
                "seed": s,
                "test_accuracy": results[f"{loss}/{st}/{rates[loss]}/{s}"]["curve"][-1][
                    "test_accuracy"
                ],
            }
            for loss in LOSSES
            for st in STARTS
            for s in range(seeds)
        ],
    )
