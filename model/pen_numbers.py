"""Whole numbers written with the shared pen digits, as one person would write them on the page's
Number canvas: evaluation data for reading numbers (``model.segment``), never training data.

A number takes its digits from one writer, each a trajectory of that writer for the digit wanted.
They are laid out left to right along a baseline: one size for the number (45–70 % of the canvas
height), each digit ±12 % around it, the baseline jittered by a few percent of the height per
digit, and the gap between two digits' ink from 8 % of the height of overlap to 30 % of space
(about one gap in five overlaps). A number too long for the canvas is shrunk to fit.

Coordinates are canvas pixels (x right, y down) of a ``NUMBER_CANVAS`` canvas, as the page sends
strokes to ``/api/read``; ``model.pendigits.render`` draws them as the canvas does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.pendigits import BRUSH, PenDigit

NUMBER_CANVAS = (700, 280)  # the Number mode's canvas, (width, height) in CSS pixels

Stroke = list[tuple[float, float]]


@dataclass(frozen=True)
class PenNumber:
    """A number written with pen digits: its text, its writer, and each digit's strokes and ink
    box (x0, y0, x1, y1, brush included) in canvas pixels, left to right."""

    text: str
    writer: str
    size: tuple[int, int]  # (width, height) of the canvas
    digits: list[list[Stroke]]  # each digit's strokes, in writing order
    boxes: list[tuple[float, float, float, float]]

    @property
    def strokes(self) -> list[Stroke]:
        """Every stroke, digit after digit, as the number was written."""
        return [stroke for digit in self.digits for stroke in digit]


def by_writer(samples: Sequence[PenDigit]) -> dict[str, dict[int, list[PenDigit]]]:
    """The samples as {writer: {digit: [samples]}}."""
    table: dict[str, dict[int, list[PenDigit]]] = {}
    for s in samples:
        table.setdefault(s.writer, {}).setdefault(s.label, []).append(s)
    return table


def compose(
    digits: Sequence[PenDigit],
    rng: np.random.Generator,
    size: tuple[int, int] = NUMBER_CANVAS,
) -> PenNumber:
    """Lay out ``digits`` (one writer's, in reading order) as one written number."""
    width, height = size
    brush = BRUSH * min(width, height)
    base = rng.uniform(0.45, 0.70) * height
    scales = base * rng.uniform(0.88, 1.12, len(digits))
    gaps = base * rng.uniform(-0.08, 0.30, max(len(digits) - 1, 0))
    drops = base * rng.normal(0.0, 0.035, len(digits))  # the baseline's wobble

    # Each digit in its own unit box (longer side 0..1), scaled; x measured from its ink's left.
    shapes = []
    for digit, scale in zip(digits, scales):
        points = np.concatenate([np.asarray(s, dtype=np.float64) for s in digit.strokes])
        left, bottom = points[:, 0].min(), points[:, 1].max()
        shapes.append(
            [(np.asarray(s, dtype=np.float64) - (left, bottom)) * scale for s in digit.strokes]
        )
    widths = np.array([max(np.concatenate(s)[:, 0].max(), 0.0) for s in shapes])
    heights = np.array([-np.concatenate(s)[:, 1].min() for s in shapes])
    # Shrink the digits and gaps to fit inside the canvas, leaving one brush of margin and room
    # for the wobble (the brush keeps its width, as a pen does).
    margin = brush
    seams = brush * (len(digits) - 1)  # a gap is between two digits' ink: 0 is ink touching
    reach = float(np.max(heights + np.abs(drops)))
    fit = min(
        1.0,
        (width - 2 * margin - seams) / max(widths.sum() + gaps.sum(), 1e-9),
        (height - 2 * margin) / reach,
    )
    widths, heights, drops, gaps = widths * fit, heights * fit, drops * fit, gaps * fit
    shapes = [[s * fit for s in shape] for shape in shapes]
    lefts = np.concatenate([[0.0], np.cumsum(widths[:-1] + brush + gaps)])
    total = lefts[-1] + widths[-1]
    x0 = rng.uniform(margin, max(margin, width - margin - total))
    top_room = float(np.max(heights - drops))  # the most any digit reaches above the baseline
    low, high = margin + top_room, height - margin - float(np.max(np.maximum(drops, 0)))
    baseline = rng.uniform(low, max(low, high))

    placed, boxes = [], []
    for shape, left, drop in zip(shapes, lefts, drops):
        offset = np.array([x0 + left, baseline + drop])
        strokes = [[(float(x), float(y)) for x, y in s + offset] for s in shape]
        points = np.concatenate([s + offset for s in shape])
        (bx0, by0), (bx1, by1) = points.min(axis=0), points.max(axis=0)
        r = brush / 2
        boxes.append((bx0 - r, by0 - r, bx1 + r, by1 + r))
        placed.append(strokes)
    text = "".join(str(d.label) for d in digits)
    return PenNumber(text, digits[0].writer, (width, height), placed, boxes)


def numbers(
    samples: Sequence[PenDigit],
    count: int,
    seed: int | Sequence[int],
    writers: Sequence[str] | None = None,
    lengths: tuple[int, int] = (2, 6),
    size: tuple[int, int] = NUMBER_CANVAS,
) -> list[PenNumber]:
    """``count`` numbers of ``lengths`` digits (each length equally likely, every digit 0–9
    equally likely, a leading 0 too), each from one writer drawn at random from ``writers``
    (default: all), with that writer's samples of each digit chosen at random."""
    table = by_writer(samples)
    pool = sorted(writers if writers is not None else table)
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(count):
        writer = pool[rng.integers(len(pool))]
        n = int(rng.integers(lengths[0], lengths[1] + 1))
        labels = rng.integers(0, 10, n)
        chosen = []
        for label in labels:
            options = table[writer][int(label)]
            chosen.append(options[rng.integers(len(options))])
        result.append(compose(chosen, rng, size))
    return result
