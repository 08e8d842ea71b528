"""Digits and numbers written small for the pen: how well they are read, and what the page says.

    .venv/bin/python -m benchmarks.written_small [--digits 400] [--numbers 120] [--seed 7]
        [--check 300]

The page's pen is 7.5 % of the pad's shorter side (21 px of 280), whatever the size of the
writing, so a digit only a few pen widths tall fills its loops in.

One digit: ``--digits`` pen digits (all writers) drawn at the centre of the 280 × 280 pad with
their longer side at each share of it, rendered as the page renders them and sent as PNG to
``POST /api/predict``: the share read right and the share answered "not a digit", by length in
pen widths (pen included). The page says "drawn small for the pen" under five
(``static/js/canvas.js`` smallForThePen).

A number: pen numbers
(``model.pen_numbers``, all writers) are shrunk towards the point (140, 140) of the 700 × 280
canvas and read as the page reads them: their strokes to ``POST /api/read`` of a real server.
For each scale: the median height of the digits found (their boxes, pen included) and the share
of numbers read exactly. Then the rule of ``static/js/number-view.js`` (most digits under five
pen widths tall: "written small for the pen"), counted on ``--check`` numbers as people wrote
them (another seed): how many it would flag.

The server serves the active model of the data home, ``DIGITS_HOME`` (``./var`` by default, as
for the ``digits`` command; a fresh data home starts on the shipped model).
"""

from __future__ import annotations

import argparse
import statistics
import sys

import httpx2
import numpy as np

from app.config import get_settings
from app.live_server import LiveServer
from model import pen_numbers, pendigits

SCALES = (1.0, 0.6, 0.45, 0.35, 0.28)
SHARES = (0.6, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2)  # one digit's longer side ÷ the pad's side
SMALL = 5  # pen widths: under it, ink is small for the pen (canvas.js smallForThePen)


def digits_by_size(client: httpx2.Client, digits: list[pendigits.PenDigit]) -> None:
    """Print, for each of SHARES, how the digits drawn at that size are answered."""
    pen = pendigits.BRUSH * pendigits.CANVAS
    print(f"{len(digits)} pen digits, one at a time on the {pendigits.CANVAS} px pad (PNG)")
    for share in SHARES:
        size = share * pendigits.CANVAS
        corner = (pendigits.CANVAS - size) / 2
        right = flagged = 0
        for digit in digits:
            image = pendigits.render(pendigits.to_canvas(digit, size, corner, corner))
            answer = client.post(
                "/api/predict",
                content=pendigits.png_bytes(image),
                headers={"content-type": "image/png"},
                timeout=30,
            ).json()
            flagged += answer["verdict"] == "not_a_digit"
            right += answer["verdict"] != "not_a_digit" and answer["digit"] == digit.label
        print(
            f"  {share:4.0%} of the pad: {(size + pen) / pen:4.1f} pen widths, "
            f"read right {right / len(digits):6.1%}, not a digit {flagged / len(digits):5.1%}"
        )


def read(client: httpx2.Client, number: pen_numbers.PenNumber, scale: float) -> dict:
    """/api/read's answer for the number's strokes, shrunk by ``scale`` towards (140, 140)."""
    strokes = [
        [[140 + (x - 140) * scale, 140 + (y - 140) * scale] for x, y in s] for s in number.strokes
    ]
    width, height = number.size
    body = {"strokes": strokes, "width": width, "height": height}
    response = client.post("/api/read", json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def heights(answer: dict) -> list[float]:
    """The height of each digit found (marks left out), in the canvas's pixels."""
    return [d["box"][3] - d["box"][1] for d in answer["digits"] if d["verdict"] != "not_a_digit"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--digits", type=int, default=400, help="digits read at each size")
    parser.add_argument("--numbers", type=int, default=120, help="numbers read at each scale")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", type=int, default=300, help="numbers as written, for the rule")
    args = parser.parse_args()
    if not pendigits.PEN_DIGITS.exists():
        print(f"{pendigits.PEN_DIGITS} is not available", file=sys.stderr)
        return 1
    samples = pendigits.load()
    writers = sorted({s.writer for s in samples})
    numbers = pen_numbers.numbers(samples, args.numbers, args.seed, writers)
    home = get_settings().home
    with (
        LiveServer(home, log=home / "written-small-server.log") as server,
        httpx2.Client(base_url=server.url) as client,
    ):
        chosen = np.random.default_rng(args.seed).permutation(len(samples))[: args.digits]
        digits_by_size(client, [samples[i] for i in chosen])
        print(f"{len(numbers)} pen numbers (seed {args.seed}), read as strokes by {server.url}")
        for scale in SCALES:
            answers = [read(client, n, scale) for n in numbers]
            median = statistics.median(h for a in answers for h in heights(a))
            right = sum(a["number"] == n.text for a, n in zip(answers, numbers, strict=True))
            print(
                f"  scale {scale:4.2f}: median digit {median:5.1f} px tall, "
                f"read right {right / len(numbers):6.1%}"
            )
        written = pen_numbers.numbers(samples, args.check, args.seed + 4, writers)
        flagged = 0
        for number in written:
            found = heights(read(client, number, 1.0))
            limit = SMALL * pendigits.BRUSH * number.size[1]  # the page's pen, as rendered here
            flagged += bool(found) and 2 * sum(h < limit for h in found) > len(found)
        print(f"as written: {flagged} of {len(written)} numbers would be called small for the pen")
    return 0


if __name__ == "__main__":
    sys.exit(main())
