"""A short retrain's accuracy: the newcomer's one-epoch job, over several seeds.

    .venv/bin/python -m benchmarks.short_run [--seeds 5] [--set FIELD=VALUE ...]

The admin page's quickest useful retrain (issue "A newcomer's first hour"): 784-64-11, one epoch
of 5,000 MNIST images (8,500 with the generated digits and marks), every other setting at
``TrainConfig``'s default, as a job asked for those three fields trains. For each seed it prints
the MNIST test accuracy two ways: eleven-way, as the admin page counts it (a digit answered "not
a digit" is wrong), and the digit it names (the ten digit outputs' argmax, as the README counts
the shipped model); then the mean and the range over the seeds. One seed is not a measurement
here: equivalent recipes differ by about 0.6 points in their five-seed means.

``--set`` changes a TrainConfig field (repeatable; Python literals: ``--set augment=False
--set hidden=(128,)``) to compare a change over the same seeds. MNIST comes from DIGITS_HOME,
as for the CLI. About 7 s a seed.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import time
from pathlib import Path

from app.config import get_settings

NEWCOMERS_JOB = {"hidden": (64,), "epochs": 1, "max_train_samples": 5000}


def parse_setting(text: str) -> tuple[str, object]:
    """Parse "field=value" into (field, the value as a Python literal, or as the text)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def main() -> int:
    from model.data import load_mnist, to_float
    from model.train import TrainConfig, train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 … N-1 (default 5)")
    parser.add_argument(
        "--set",
        dest="settings",
        type=parse_setting,
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="change one TrainConfig field from the newcomer's job (repeatable)",
    )
    parser.add_argument(
        "--home",
        type=Path,
        default=get_settings().home,
        help="data home with mnist.npz (default: DIGITS_HOME, as the CLI)",
    )
    args = parser.parse_args()
    settings = {**NEWCOMERS_JOB, **dict(args.settings)}
    mnist = load_mnist(args.home)
    x, y = to_float(mnist.test_x), mnist.test_y
    print(f"one short run per seed: {settings}")
    eleven, named = [], []
    for seed in range(args.seeds):
        started = time.perf_counter()
        result = train(TrainConfig(seed=seed, **settings), mnist.train_x, mnist.train_y)
        scores = result.network.predict(x)
        eleven.append(float((scores.argmax(axis=1) == y).mean()))
        named.append(float((scores[:, :10].argmax(axis=1) == y).mean()))
        print(
            f"  seed {seed}: {eleven[-1]:.2%} eleven-way, {named[-1]:.2%} the digit it names "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    for name, values in (("eleven-way", eleven), ("the digit it names", named)):
        print(
            f"{name}: mean {statistics.mean(values):.2%} "
            f"({min(values):.2%}–{max(values):.2%}, {len(values)} seeds)"
        )
    print(
        f"short-run: mean_eleven_way={statistics.mean(eleven):.4f} "
        f"mean_digit_named={statistics.mean(named):.4f} "
        f"min_eleven_way={min(eleven):.4f} seeds={len(eleven)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
