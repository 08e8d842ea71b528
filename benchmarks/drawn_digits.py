"""Accuracy on digits people drew: every pen trajectory rendered as the canvas would, sent through
the real HTTP API of a real server, exactly as the drawing page sends it.

    .venv/bin/python -m benchmarks.drawn_digits [--limit N] [--seed S] [--model FILE]

Reports accuracy overall, per class and per writer, and the most frequent confusions. The
trajectories are evaluation data only: the shipped model never trains on them.
"""

from __future__ import annotations

import argparse
import base64
import collections
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import numpy as np

from app.live_server import LiveServer
from model import pendigits


def install_model(home: Path, model_file: Path) -> None:
    """Serve model_file instead of the shipped default: make it the registry's active version."""
    from model.modelfile import load_model
    from model.registry import Registry

    loaded = load_model(model_file)
    registry = Registry(home)
    registry.ensure_initialised()
    dest = registry.path(loaded.version)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_file, dest)
    registry.activate(loaded.version)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="evaluate a seeded sample of N digits")
    parser.add_argument("--seed", type=int, default=0, help="placement and sampling seed")
    parser.add_argument("--model", type=Path, help="a model file to serve (default: shipped)")
    args = parser.parse_args()
    # DIGITS_HOME set: serve that data home's active model, as the CLI would; otherwise a fresh
    # data home, which starts on the shipped model.
    given = os.environ.get("DIGITS_HOME")

    digits = pendigits.load()
    rng = np.random.default_rng(args.seed)
    if args.limit:
        digits = [digits[i] for i in sorted(rng.permutation(len(digits))[: args.limit])]

    with tempfile.TemporaryDirectory() as scratch:
        home = Path(given) if given else Path(scratch)
        if args.model:
            install_model(home, args.model)
        with LiveServer(home) as server:
            url = server.url
            results = []
            errors = 0
            started = time.perf_counter()
            with httpx2.Client(base_url=url, timeout=10) as client:
                for digit in digits:
                    image = pendigits.render(pendigits.to_canvas(digit, *pendigits.placement(rng)))
                    data_url = (
                        "data:image/png;base64,"
                        + base64.b64encode(pendigits.png_bytes(image)).decode()
                    )
                    response = client.post("/api/predict", json={"image": data_url})
                    if response.status_code != 200:
                        errors += 1
                        continue
                    body = response.json()
                    results.append((digit, body["digit"]))
                version = client.get("/api/model").json()["version"]
            seconds = time.perf_counter() - started

    report(results, errors, version, seconds)
    return 0


def report(results, errors: int, version: str, seconds: float) -> None:
    n = len(results)
    correct = sum(d.label == p for d, p in results)
    accuracy = correct / max(n, 1)
    print(
        f"model {version}: {n} drawn digits from {len({d.writer for d, _ in results})} writers, "
        f"{errors} request errors, {seconds:.0f} s"
    )
    print(f"overall accuracy: {accuracy:.2%}")

    by_class = collections.defaultdict(lambda: [0, 0])
    by_writer = collections.defaultdict(lambda: [0, 0])
    for d, p in results:
        for table, key in ((by_class, d.label), (by_writer, d.writer)):
            table[key][0] += d.label == p
            table[key][1] += 1
    print("per class:  " + "  ".join(f"{c}:{a / t:.1%}" for c, (a, t) in sorted(by_class.items())))
    writers = sorted(by_writer.items(), key=lambda kv: kv[1][0] / kv[1][1])
    rates = np.array([a / t for _, (a, t) in writers])
    print(f"per writer: median {np.median(rates):.1%}, worst {rates[0]:.1%}, best {rates[-1]:.1%}")
    for writer, (a, t) in writers:
        print(f"  {writer:<24} {a / t:6.1%}  ({a}/{t})")
    confusions = collections.Counter((d.label, p) for d, p in results if d.label != p)
    print(
        "most frequent confusions (true → predicted): "
        + ", ".join(f"{t}→{p} ×{k}" for (t, p), k in confusions.most_common(8))
    )
    print(
        f"drawn-digits: accuracy={accuracy:.4f} n={n} worst_writer={rates[0]:.4f} errors={errors}"
    )


if __name__ == "__main__":
    sys.exit(main())
