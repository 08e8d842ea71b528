"""Experiment 2: deeper vs fatter, at the same number of parameters.

The lecture's "Fat + Short vs Thin + Tall" table (Seide, Li and Yu 2011, speech recognition):
5 hidden layers of 2k units reach 17.2 % word error where one layer of 3,772 units, with as many
parameters, reaches 22.5 %. Here: k hidden layers of 256 units (k = 2, 3, 5; 1 × 256 is the
baseline) against one hidden layer whose width gives the same parameter count, trained alike on
MNIST and scored on the MNIST test set and on the drawn digits of ../shared/pen-digits.

(Just over 300 lines: the run, its table, its plot and its verdict are one experiment, read
together.)
"""

from __future__ import annotations

from model.lab import sections as S
from model.lab.fit import FitConfig, fit
from model.lab.job import Job, Settings
from model.network import MLP
from model.train import accuracy

ID, NUMBER, TITLE = "depth_width", 2, "Deeper vs fatter"

WIDTH = 256
DEPTHS = (2, 3, 5)  # each against one layer with as many parameters
FULL = {"train": None, "epochs": 20}
QUICK = {"train": 10000, "epochs": 3}
# The project's training recipe as the lab was sized (model/train.py's defaults then, with a
# warm-up of one epoch), without augmentation.
RECIPE = dict(
    batch_size=128,
    learning_rate=0.05,
    schedule="cosine",
    warmup_epochs=1.0,
    momentum=0.9,
    weight_decay=5e-5,
    keep_best=True,
)
SECONDS_PER_EPOCH_PER_PARAM = 3.2e-6  # measured here on 55,000 images, for the cost estimate


def parameter_count(sizes: list[int]) -> int:
    """Weights and biases of a fully connected network with these layer sizes."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def same_budget_width(depth: int, width: int = WIDTH, n_in: int = 784, n_out: int = 10) -> int:
    """The width h of one hidden layer whose network has the parameter count nearest to
    ``depth`` layers of ``width``: (n_in + 1)·h + (h + 1)·n_out = the deep network's count."""
    target = parameter_count([n_in, *[width] * depth, n_out])
    return round((target - n_out) / (n_in + 1 + n_out))


def configurations() -> list[tuple[str, tuple[int, ...]]]:
    """(name, hidden widths): 1 × 256, then each deep network and its fat twin."""
    configs = [(f"1×{WIDTH}", (WIDTH,))]
    for depth in DEPTHS:
        configs.append((f"{depth}×{WIDTH}", (WIDTH,) * depth))
        fat = same_budget_width(depth)
        configs.append((f"1×{fat}", (fat,)))
    return configs


def run(params: dict, data, progress) -> dict:
    images, labels = data.training_subset(params["train"])
    net = MLP([784, *params["hidden"], 10], "relu", seed=params["seed"])
    config = FitConfig(epochs=params["epochs"], order_seed=params["seed"], **RECIPE)
    result = fit(net, images, labels, config, (data.val_x, data.val_y), progress=progress)
    pen = None if data.pen is None else accuracy(net, data.pen.x, data.pen.labels)
    return {
        "params": parameter_count(net.sizes),
        "best_epoch": result.best_epoch,
        "validation_accuracy": result.validation_accuracy,
        "test_accuracy": accuracy(net, data.test_x, data.test_y),
        "pen_accuracy": pen,
        "train_seconds": result.train_seconds,
        "validation_curve": [h["validation_accuracy"] for h in result.history],
    }


def plan(settings: Settings) -> list[Job]:
    size = QUICK if settings.quick else FULL
    n = size["train"] or 55000
    jobs = []
    for name, hidden in configurations():
        cost = SECONDS_PER_EPOCH_PER_PARAM * parameter_count([784, *hidden, 10])
        for seed in range(settings.seeds):
            params = {"hidden": list(hidden), "seed": seed, **size}
            jobs.append(
                Job(
                    ID,
                    f"{name}/{seed}",
                    f"depth/width {name} seed {seed}",
                    run,
                    params,
                    cost * size["epochs"] * n / 55000,
                )
            )
    return jobs


def _cells(results: dict, name: str, seeds: int, field: str) -> list[float]:
    return [results[f"{name}/{s}"][field] for s in range(seeds)]


def _compare(deep: list[float], fat: list[float]) -> str:
    """ "deep", "fat" or "tie": which has the higher accuracy, beyond twice the standard error
    of the difference of the means."""
    (md, sd), (mf, sf) = S.mean_sd(deep), S.mean_sd(fat)
    se = (sd**2 / len(deep) + sf**2 / len(fat)) ** 0.5
    if md - mf > 2 * se:
        return "deep"
    if mf - md > 2 * se:
        return "fat"
    return "tie"


def summarise(settings: Settings, results: dict) -> dict:
    seeds = settings.seeds
    names = [name for name, _ in configurations()]
    params = {n: results[f"{n}/0"]["params"] for n in names}
    fields = [("test_accuracy", "MNIST")]
    if results[f"{names[0]}/0"]["pen_accuracy"] is not None:
        fields.append(("pen_accuracy", "drawn digits"))

    def error(name: str, field: str) -> str:
        return S.err(_cells(results, name, seeds, field))

    base = names[0]
    rows = [
        [
            base,
            S.count(params[base]),
            *[error(base, f) for f, _ in fields],
            "(baseline)",
            "",
            *["" for _ in fields],
        ]
    ]
    outcomes = []
    for depth in DEPTHS:
        deep, fat = f"{depth}×{WIDTH}", f"1×{same_budget_width(depth)}"
        rows.append(
            [
                deep,
                S.count(params[deep]),
                *[error(deep, f) for f, _ in fields],
                fat,
                S.count(params[fat]),
                *[error(fat, f) for f, _ in fields],
            ]
        )
        for f, label in fields:
            outcome = _compare(_cells(results, deep, seeds, f), _cells(results, fat, seeds, f))
            outcomes.append((depth, label, outcome))
    columns = [
        "thin + tall",
        "parameters",
        *[f"{label} error" for _, label in fields],
        "fat + short",
        "parameters",
        *[f"{label} error" for _, label in fields],
    ]

    charts = []
    budgets = [f"{S.count(params[f'{d}×{WIDTH}'])} parameters" for d in DEPTHS]
    for f, label in fields:
        bars = []
        for shape, pick in (
            ("thin + tall", lambda d: f"{d}×{WIDTH}"),
            ("fat + short", lambda d: f"1×{same_budget_width(d)}"),
        ):
            stats = [S.mean_sd(1 - a for a in _cells(results, pick(d), seeds, f)) for d in DEPTHS]
            bars.append(
                S.series(
                    f"{shape} ({', '.join(pick(d) for d in DEPTHS)})",
                    [100 * m for m, _ in stats],
                    sd=[100 * sd for _, sd in stats],
                )
            )
        charts.append(
            S.bar_chart(
                f"depth-width-{'mnist' if f == 'test_accuracy' else 'pen'}",
                f"Test error on {label} at three parameter budgets",
                budgets,
                "error (%)",
                bars,
                y_bounds=S.PERCENT,
            )
        )
    curves = []
    for name in names:
        per_seed = [results[f"{name}/{s}"]["validation_curve"] for s in range(seeds)]
        epochs = list(range(1, len(per_seed[0]) + 1))
        stats = [S.mean_sd(1 - c[e - 1] for c in per_seed) for e in epochs]
        curves.append(
            S.series(
                name,
                [100 * m for m, _ in stats],
                x=epochs,
                sd=[100 * sd for _, sd in stats],
                dashed=name.startswith("1×"),
            )
        )
    charts.append(
        S.line_chart(
            "depth-width-curves",
            "Validation error while training",
            "epoch",
            "validation error (%)",
            curves,
            y_log=True,
            y_bounds=S.PERCENT,
        )
    )

    deep_wins = sum(o == "deep" for *_, o in outcomes)
    fat_wins = sum(o == "fat" for *_, o in outcomes)
    detail = "; ".join(
        f"{d}×{WIDTH} vs 1×{same_budget_width(d)} on {lbl}: {o}" for d, lbl, o in outcomes
    )
    if deep_wins == len(outcomes):
        verdict, why = (
            "confirmed",
            "Thin + tall beat fat + short at every budget, on both test sets.",
        )
    elif fat_wins == len(outcomes):
        verdict, why = "not confirmed", "Fat + short beat thin + tall at every budget."
    else:
        verdict = "depends"
        why = (
            f"Thin + tall won {deep_wins} of {len(outcomes)} comparisons and fat + short "
            f"{fat_wins}; the others are within the seed-to-seed spread ({detail})."
        )
    deepest, fattest = f"{DEPTHS[-1]}×{WIDTH}", f"1×{same_budget_width(DEPTHS[-1])}"
    size = QUICK if settings.quick else FULL
    return S.section(
        NUMBER,
        ID,
        TITLE,
        claim=(
            "Deeper is better, and not only because a deeper network has more parameters: "
            'at the same number of parameters, many thin layers ("thin + tall") beat one '
            'wide layer ("fat + short"). Seide et al. 2011 measured 17.2 % word error with '
            "5 layers of 2k units against 22.5 % with one layer of 3,772."
        ),
        setup=(
            f"ReLU networks of k hidden layers of {WIDTH} units (k = "
            f"{', '.join(map(str, DEPTHS))}) against one hidden layer with the same parameter "
            f"count (within 0.2 %), and 1 × {WIDTH} as the baseline. Trained with the project's "
            "recipe without augmentation (SGD, momentum 0.9, learning rate 0.05 with warm-up "
            f"and cosine decay, weight decay 5e-5, batch 128) for {size['epochs']} epochs on "
            f"{S.count(size['train'] or 55000)} MNIST training images, keeping the epoch with "
            f"the best validation accuracy; {seeds} seeds each. Scored on the 10,000 MNIST test "
            "digits and on the drawn digits (pen trajectories of 30 writers, rendered as the "
            "drawing page's canvas renders them), which no network trains on."
        ),
        tables=[
            S.table(
                "depth-width-table",
                "Test error at the same parameter count (mean ± sd)",
                columns,
                rows,
                "Error = 100 % − accuracy. The thin and the fat network of a row have "
                "the same number of parameters.",
            )
        ],
        charts=charts,
        anchors=S.table(
            "depth-width-anchors",
            "Against the published figures",
            ["source", "network", "published", "ours"],
            [
                [
                    "Seide et al. 2011 (speech, word error)",
                    "5 × 2k vs 1 × 3772, same size",
                    "17.2 % vs 22.5 %",
                    f"{deepest} vs {fattest} (MNIST): {error(deepest, 'test_accuracy')} vs "
                    f"{error(fattest, 'test_accuracy')}",
                ],
                [
                    "LeCun et al. 1998 (MNIST test error)",
                    "784-300-10",
                    "4.7 %",
                    f"784-{WIDTH}-10: {error(base, 'test_accuracy')}",
                ],
                [
                    "LeCun et al. 1998",
                    "784-1000-10",
                    "4.5 %",
                    f"784-{fattest[2:]}-10: {error(fattest, 'test_accuracy')}",
                ],
                [
                    "LeCun et al. 1998",
                    "784-300-100-10",
                    "3.05 %",
                    f"784-{WIDTH}-{WIDTH}-10: {error(f'2×{WIDTH}', 'test_accuracy')}",
                ],
            ],
        ),
        verdict=verdict,
        why=why,
        runs=[
            {
                "network": n,
                "seed": s,
                **{k: v for k, v in results[f"{n}/{s}"].items() if k != "validation_curve"},
            }
            for n in names
            for s in range(seeds)
        ],
    )
