"""How far the answers can be trusted, measured from outside: "not a digit" and calibration.

    .venv/bin/python -m benchmarks.trust [--model FILE] [--seed S]

Every drawing is rendered as the page's canvas renders it and sent as a PNG to POST /api/predict
of a real server, as the drawing page sends it. The drawings, none of them used to fit anything:

- the digits of the 10 held-out pen-digit writers (``model.trust``'s split);
- the letters and symbols of the held-out third of the pen-mark writers;
- our own negatives: scribbles, hatching, zigzags, spirals, stars, tallies and loops
  (``model.marks``, from a seed training never uses: the same generator, so an easier set), and
  marks far too small for a digit: taps, dots and short ticks.

It reports the share of each kind answered ``not_a_digit`` (detection; on digits, the false
flags), the digits' accuracy, the calibration of the API's probabilities on them (ECE over 15
bins, the answers under the top bin, the reliability table) and what "unsure" means. In-process
figures on the same split, with the probabilities before and after calibration, come last.
DIGITS_HOME set: the active model of that data home; otherwise a fresh home (the shipped model).
"""

from __future__ import annotations

import argparse
import base64
import collections
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
import numpy as np

from app.live_server import LiveServer
from benchmarks.drawn_digits import install_model
from model import marks, pendigits, trust
from model.calibrate import expected_calibration_error, reliability
from model.registry import Registry

OWN_PER_KIND = 60  # of each procedural kind, and of each too-small kind
SEED = 20261130


@dataclass(frozen=True)
class Drawing:
    group: str  # "digit", "pen mark", "own mark" or "too small"
    kind: str  # the digit, the character, or the kind of mark
    canvas: list  # strokes in canvas pixels


def held_out_drawings(rng: np.random.Generator) -> list[Drawing]:
    """The held-out writers' digits and marks, each placed on the canvas at random."""
    digits, pen_marks = pendigits.load(), pendigits.load(pendigits.PEN_MARKS)
    fitting = trust.fit_writers([d.writer for d in digits], [m.writer for m in pen_marks])
    return [
        Drawing(group, str(d.label), pendigits.to_canvas(d, *pendigits.placement(rng)))
        for group, items in (("digit", digits), ("pen mark", pen_marks))
        for d in items
        if d.writer not in fitting
    ]


def own_negatives(rng: np.random.Generator) -> list[Drawing]:
    """Procedural marks at a digit's size, and taps, dots and ticks far smaller than one."""
    out = []
    canvas = pendigits.CANVAS
    for kind in marks.PROCEDURAL:
        for _ in range(OWN_PER_KIND):
            size, left, top = pendigits.placement(rng)
            strokes = [
                [(left + x * size, top + y * size) for x, y in s] for s in marks.strokes(kind, rng)
            ]
            out.append(Drawing("own mark", kind, strokes))
    for _ in range(OWN_PER_KIND):
        x, y = rng.uniform(0.2, 0.8, 2) * canvas
        out.append(Drawing("too small", "tap", [[(x, y)]]))
        r = rng.uniform(2, 6)
        t = np.linspace(0, 2 * np.pi, 12)
        out.append(Drawing("too small", "dot", [list(zip(x + r * np.cos(t), y + r * np.sin(t)))]))
        length, angle = rng.uniform(6, 24), rng.uniform(0, np.pi)
        tick = [(x, y), (x + length * np.cos(angle), y + length * np.sin(angle))]
        out.append(Drawing("too small", "tick", [tick]))
    return out


def ask(client: httpx2.Client, drawing: Drawing) -> dict:
    png = pendigits.png_bytes(pendigits.render(drawing.canvas))
    image = "data:image/png;base64," + base64.b64encode(png).decode()
    response = client.post("/api/predict", json={"image": image})
    response.raise_for_status()
    return response.json()


def report(drawings: list[Drawing], answers: list[dict], unsure_threshold: float) -> None:
    groups = collections.defaultdict(list)
    for drawing, answer in zip(drawings, answers):
        groups[drawing.group].append((drawing, answer))

    print("\nanswered 'not a digit' (held-out writers; own negatives from an unused seed):")
    for group, pairs in groups.items():
        flagged = np.array([a["verdict"] == "not_a_digit" for _, a in pairs])
        by_kind = collections.defaultdict(list)
        for (d, _), f in zip(pairs, flagged):
            by_kind[d.kind].append(f)
        worst = sorted(by_kind.items(), key=lambda kv: np.mean(kv[1]))[:6]
        print(
            f"  {group:<9} {flagged.mean():7.2%} of {len(pairs):5,}   lowest: "
            + ", ".join(f"{k} {np.mean(v):.0%}" for k, v in worst)
        )

    pairs = groups["digit"]
    truth = np.array([int(d.kind) for d, _ in pairs])
    probabilities = np.array([a["probabilities"] for _, a in pairs])
    right = probabilities.argmax(axis=1) == truth
    verdicts = collections.Counter(a["verdict"] for _, a in pairs)
    print(
        f"\nheld-out drawn digits: {right.mean():.2%} of {len(truth):,} right (the top digit, "
        f"whatever the verdict); verdicts: {dict(verdicts)}"
    )
    ece = expected_calibration_error(probabilities, truth)
    print(f"calibration of the API's probabilities: ECE {ece:.2%} (15 equal-width bins)")
    below = probabilities.max(axis=1) <= trust.TOP_BIN
    if below.any():
        claim, hit = probabilities.max(axis=1)[below].mean(), right[below].mean()
        print(
            f"  under {trust.TOP_BIN:.1%} confidence: {below.sum()} answers claim {claim:.1%}, "
            f"are right {hit:.1%} (gap {(claim - hit) * 100:+.1f} points)"
        )
    unsure = probabilities.max(axis=1) < unsure_threshold
    if unsure.any():
        print(
            f"  'unsure' (top under {unsure_threshold:.0%}): {unsure.mean():.1%} of digits, "
            f"right {right[unsure].mean():.1%} of the time; the rest right "
            f"{right[~unsure].mean():.2%}"
        )
    print("  reliability:  bin           n   confidence  accuracy")
    for b in reliability(probabilities, truth):
        print(
            f"               {b.low:4.2f}–{b.high:4.2f}  {b.count:5}   {b.confidence:8.1%}  "
            f"{b.accuracy:8.1%}"
        )
    detected = np.mean([a["verdict"] == "not_a_digit" for _, a in groups["pen mark"]])
    false_flags = verdicts["not_a_digit"] / len(truth)
    print(
        f"\ntrust: marks_detected={detected:.4f} digits_flagged={false_flags:.4f} "
        f"accuracy={right.mean():.4f} ece={ece:.4f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a model file to serve (default: shipped)")
    parser.add_argument("--seed", type=int, default=SEED, help="placement and negatives seed")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    drawings = held_out_drawings(rng) + own_negatives(rng)
    given = os.environ.get("DIGITS_HOME")
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(given) if given else Path(scratch)
        if args.model:
            install_model(home, args.model)
        with LiveServer(home) as server, httpx2.Client(base_url=server.url, timeout=30) as client:
            started = time.perf_counter()
            answers = [ask(client, d) for d in drawings]
            seconds = time.perf_counter() - started
            version = client.get("/api/model").json()["version"]
            threshold = client.get("/api/model").json()["calibration"]["unsure_threshold"]
        loaded = Registry(home).load(version)
    print(
        f"model {version}: {len(drawings):,} drawings through POST /api/predict in {seconds:.0f} s"
    )
    report(drawings, answers, threshold)

    data = trust.load()
    if data is not None:
        calibration = trust.Calibration.of(loaded.meta)
        figures = trust.measure(loaded.network, calibration, data)
        print("\nin process, the same writers (model.trust.measure):")
        print(trust.describe(figures, calibration.__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
