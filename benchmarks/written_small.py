"""Numbers written small for the pen: how well they are read, and how many the page calls small.

    .venv/bin/python -m benchmarks.written_small [--numbers 120] [--seed 7] [--check 300]

The page's pen is 7.5 % of the pad's height (21 px of the Number canvas's 280), whatever the size
of the writing, so a digit only a few pen widths tall fills its loops in. Pen numbers
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

from app.config import get_settings
from app.live_server import LiveServer
from model import pen_numbers, pendigits

SCALES = (1.0, 0.6, 0.45, 0.35, 0.28)
SMALL = 5  # pen widths: under it, a digit is small for the pen (number-view.js writtenSmall)


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
