"""Experiment 6: local minima. One configuration, ten random starting points.

The lecture: gradient descent never guarantees the global minimum; different initial points reach
different minima, so different results. Here the same network, data and recipe start from ten
different random initialisations (the order of the training images fixed), and, to tell the two
sources of chance apart, from one initialisation with ten different orders. How far apart do they
end: in training loss, in test accuracy, and in which digits they get wrong?
"""

from __future__ import annotations

import itertools

import numpy as np

from model.lab import sections as S
from model.lab.data import current
from model.lab.depth_width import parameter_count
from model.lab.fit import FitConfig, fit, mean_loss
from model.lab.job import Job, Settings
from model.network import MLP

ID, NUMBER, TITLE = "minima", 6, "Local minima: ten starting points"

HIDDEN = (256, 128)
SIZES = [784, *HIDDEN, 10]
FULL = {"train": None, "epochs": 15, "runs": 10}
QUICK = {"train": 5000, "epochs": 3, "runs": 4}
RECIPE = dict(
    batch_size=128,
    learning_rate=0.05,
    schedule="cosine",
    warmup_epochs=1.0,
    momentum=0.9,
    weight_decay=5e-5,
)
SECONDS_PER_EPOCH = 0.8  # 55,000 images, measured here (cost estimate only)


def _size(settings: Settings) -> dict:
    return QUICK if settings.quick else FULL


def run(params: dict, data, progress) -> dict:
    images, labels = data.training_subset(params["train"])
    net = MLP([784, *HIDDEN, 10], "relu", seed=params["init_seed"])
    config = FitConfig(epochs=params["epochs"], order_seed=params["order_seed"], **RECIPE)
    fit(net, images, labels, config, progress=progress)
    x_train = images.astype(np.float32) / np.float32(255)
    predicted = net.predict(data.test_x).argmax(axis=1)
    pen = None if data.pen is None else net.predict(data.pen.x).argmax(axis=1)
    return {
        "train_loss": mean_loss(net, x_train, labels, "cross-entropy"),
        "test_accuracy": float((predicted == data.test_y).mean()),
        "pen_accuracy": None if pen is None else float((pen == data.pen.labels).mean()),
        "test_predictions": predicted.tolist(),  # for the disagreements; not in the report
    }


def plan(settings: Settings) -> list[Job]:
    size = _size(settings)
    cost = SECONDS_PER_EPOCH * size["epochs"] * (size["train"] or 55000) / 55000
    jobs = []
    for init, order in sorted(
        {(s, 0) for s in range(size["runs"])} | {(0, s) for s in range(size["runs"])}
    ):
        params = {
            "init_seed": init,
            "order_seed": order,
            "train": size["train"],
            "epochs": size["epochs"],
        }
        jobs.append(
            Job(ID, f"{init}/{order}", f"minima init {init} order {order}", run, params, cost)
        )
    return jobs


def _spread(runs: list[dict], test_y: np.ndarray) -> dict:
    predictions = np.array([r["test_predictions"] for r in runs])
    right = predictions == test_y
    pairs = [
        float((predictions[a] != predictions[b]).mean())
        for a, b in itertools.combinations(range(len(runs)), 2)
    ]
    return {
        "disagreement": S.mean_sd(pairs),
        "all_right": int(right.all(axis=0).sum()),
        "all_wrong": int((~right).all(axis=0).sum()),
        "some_wrong": int((~right).any(axis=0).sum()),
    }


def summarise(settings: Settings, results: dict) -> dict:
    size = _size(settings)
    n = size["runs"]
    test_y = current().test_y
    by_init = [results[f"{s}/0"] for s in range(n)]
    by_order = [results[f"0/{s}"] for s in range(n)]
    has_pen = by_init[0]["pen_accuracy"] is not None
    rows = [
        [str(s), f"{r['train_loss']:.4f}", f"{100 * r['test_accuracy']:.2f} %"]
        + ([f"{100 * r['pen_accuracy']:.2f} %"] if has_pen else [])
        for s, r in enumerate(by_init)
    ]
    columns = ["initialisation seed", "training loss", "MNIST test accuracy"] + (
        ["drawn-digit accuracy"] if has_pen else []
    )
    spread_rows, spreads = [], {}
    for name, runs in (("different initialisations", by_init), ("different orders", by_order)):
        acc = [r["test_accuracy"] for r in runs]
        sp = spreads[name] = _spread(runs, test_y)
        spread_rows.append(
            [
                name,
                str(len(runs)),
                S.pm([r["train_loss"] for r in runs], digits=4),
                S.pct(acc),
                f"{100 * min(acc):.2f}–{100 * max(acc):.2f} %",
                f"{100 * sp['disagreement'][0]:.2f} %",
                S.count(sp["some_wrong"]),
                S.count(sp["all_wrong"]),
            ]
            + ([S.pct([r["pen_accuracy"] for r in runs])] if has_pen else [])
        )
    spread_columns = [
        "what differs",
        "runs",
        "training loss",
        "test accuracy",
        "range",
        "two runs disagree on",
        "test digits some run gets wrong",
        "… that every run gets wrong",
    ] + (["drawn digits"] if has_pen else [])

    bars = [S.series("MNIST test", [100 * (1 - r["test_accuracy"]) for r in by_init])]
    if has_pen:
        bars.append(S.series("drawn digits", [100 * (1 - r["pen_accuracy"]) for r in by_init]))
    charts = [
        S.bar_chart(
            "minima-errors",
            "Test error of each initialisation",
            [f"seed {s}" for s in range(n)],
            "error (%)",
            bars,
            y_bounds=S.PERCENT,
        )
    ]

    init = spreads["different initialisations"]
    acc_mean, acc_sd = S.mean_sd(r["test_accuracy"] for r in by_init)
    accs = [r["test_accuracy"] for r in by_init]
    facts = (
        f"the {n} networks end at training losses of "
        f"{min(r['train_loss'] for r in by_init):.4f}–{max(r['train_loss'] for r in by_init):.4f} "
        f"and test accuracies of {100 * min(accs):.2f}–{100 * max(accs):.2f} % "
        f"(sd {100 * acc_sd:.2f} points); two of them disagree on "
        f"{100 * init['disagreement'][0]:.2f} % of test digits on average, while "
        f"{S.count(init['all_wrong'])} digits defeat all of them"
    )
    differs = init["disagreement"][0] > 0.001
    return S.section(
        NUMBER,
        ID,
        TITLE,
        claim=(
            "Gradient descent never guarantees the global minimum: different initial points "
            "reach different minima, so different results."
        ),
        setup=(
            f"784-{'-'.join(map(str, HIDDEN))}-10 ReLU ({S.count(parameter_count(SIZES))} "
            f"parameters), the project's recipe without augmentation (momentum 0.9, learning rate "
            f"0.05 with warm-up and cosine decay, weight decay 5e-5, batch 128), {size['epochs']} "
            f"epochs on {S.count(size['train'] or 55000)} MNIST training images, ending where "
            f"training ends. {n} initialisations with the training order fixed, and {n} orders "
            "with the initialisation fixed."
        ),
        tables=[
            S.table("minima-runs", "Each initialisation", columns, rows),
            S.table(
                "minima-spread",
                "How different the results are",
                spread_columns,
                spread_rows,
                '"Disagree": the share of test digits two networks label differently, '
                "averaged over every pair.",
            ),
        ],
        charts=charts,
        anchors=S.table(
            "minima-anchors",
            "Against the published figures",
            ["source", "claim", "ours"],
            [
                [
                    "Lee, lecture I",
                    "different initial points reach different minima",
                    f"{n} starts: {100 * acc_mean:.2f} ± {100 * acc_sd:.2f} %, "
                    f"disagreeing on {100 * init['disagreement'][0]:.2f} % of digits",
                ],
            ],
        ),
        verdict="confirmed" if differs else "not confirmed",
        why=(
            f"Different starts, different minima, nearly equally good: {facts}."
            if differs
            else f"The starts end in practically the same function: {facts}."
        ),
        runs=[
            {
                "init_seed": int(k.split("/")[0]),
                "order_seed": int(k.split("/")[1]),
                **{f: v for f, v in r.items() if f != "test_predictions"},
            }
            for k, r in sorted(results.items())
        ],
    )
