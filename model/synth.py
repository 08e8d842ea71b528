"""Synthetic pen-stroke digits, in handwriting styles that MNIST rarely shows.

MNIST was written by American Census Bureau staff and students. People elsewhere write a one with
a long flag (and often a foot), a seven with a crossbar, a nine with a curled tail, a four with a
closed top. A network that has never seen those fails on them, however well it does on MNIST.
This module draws such digits from stroke templates: each template is a few strokes in a unit box
(x right, y down), jittered, slanted and stretched per sample, rendered with a round brush of
random width, and normalised by the same function as every drawing the app receives.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from model.preprocess import normalise_ink

Stroke = list[tuple[float, float]]


def arc(cx, cy, rx, ry, start, end, steps=18) -> Stroke:
    """Points along an ellipse arc; angles in degrees, 0 = right, 90 = down (y grows down)."""
    t = np.deg2rad(np.linspace(start, end, steps))
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))


def line(*points) -> Stroke:
    return [tuple(p) for p in points]


# Each digit has several styles; each style is a list of strokes.
TEMPLATES: dict[int, list[list[Stroke]]] = {
    0: [[arc(0.5, 0.5, 0.32, 0.5, -100, 265)], [arc(0.5, 0.5, 0.38, 0.5, -80, 290)]],
    1: [
        [line((0.5, 0.0), (0.5, 1.0))],
        [line((0.3, 0.25), (0.55, 0.0), (0.55, 1.0))],
        [line((0.05, 0.45), (0.6, 0.0), (0.6, 1.0))],  # the long flag
        [line((0.2, 0.35), (0.6, 0.0), (0.6, 1.0)), line((0.3, 1.0), (0.9, 1.0))],  # with a foot
        [arc(0.62, 0.55, 0.55, 0.55, 185, 270) + line((0.6, 0.05), (0.5, 1.0))],  # curved flag
        [line((0.0, 0.22), (0.62, 0.0), (0.48, 1.0))],  # a long, flat flag on a leaning stem
    ],
    2: [
        [arc(0.5, 0.3, 0.36, 0.3, 190, 345) + line((0.1, 1.0), (0.9, 1.0))],
        [arc(0.5, 0.28, 0.34, 0.28, 200, 370) + line((0.6, 0.62), (0.08, 1.0), (0.92, 0.97))],
    ],
    3: [
        [arc(0.48, 0.26, 0.32, 0.26, 200, 450) + arc(0.48, 0.73, 0.36, 0.27, 270, 510)],
        [line((0.15, 0.0), (0.85, 0.0), (0.4, 0.42)) + arc(0.48, 0.72, 0.36, 0.28, 270, 510)],
    ],
    4: [
        [line((0.6, 0.0), (0.08, 0.65), (0.95, 0.65)), line((0.68, 0.3), (0.68, 1.0))],
        [line((0.2, 0.0), (0.15, 0.55), (0.9, 0.55)), line((0.72, 0.0), (0.72, 1.0))],  # open top
        [line((0.2, 0.0), (0.15, 0.55), (0.72, 0.55), (0.72, 0.0), (0.72, 1.0))],  # one stroke
        [
            arc(0.45, 0.35, 0.3, 0.22, 250, 90) + line((0.45, 0.57), (0.9, 0.5)),
            line((0.72, 0.05), (0.68, 1.0)),
        ],  # a rounded, closed top
        [
            line((0.22, 0.0), (0.15, 0.4))
            + arc(0.38, 0.42, 0.23, 0.2, 180, 90)
            + line((0.38, 0.62), (0.9, 0.56)),
            line((0.72, 0.22), (0.7, 1.0)),
        ],  # the down-stroke curving into the bar, a short stem
    ],
    5: [
        [line((0.85, 0.0), (0.28, 0.0), (0.22, 0.42)) + arc(0.5, 0.68, 0.34, 0.32, -130, 150)],
        [
            line((0.25, 0.0), (0.2, 0.42)) + arc(0.5, 0.68, 0.34, 0.32, -130, 150),
            line((0.25, 0.0), (0.85, 0.0)),
        ],
    ],
    6: [
        [line((0.75, 0.0), (0.45, 0.18), (0.25, 0.45)) + arc(0.5, 0.7, 0.3, 0.3, 180, 540)],
        [arc(0.9, 0.7, 0.7, 0.7, 240, 180) + arc(0.5, 0.72, 0.3, 0.28, 180, 530)],
    ],
    7: [
        [line((0.1, 0.0), (0.9, 0.0), (0.35, 1.0))],
        [line((0.1, 0.0), (0.9, 0.0), (0.35, 1.0)), line((0.3, 0.5), (0.85, 0.5))],  # crossbar
        [
            line((0.1, 0.02), (0.9, 0.0), (0.5, 0.72), (0.42, 1.0)),
            line((0.22, 0.6), (0.78, 0.55)),
        ],  # a low crossbar on a stem that turns down
        [line((0.1, 0.2), (0.15, 0.0), (0.9, 0.0), (0.45, 1.0))],  # hooked start
        [
            line((0.1, 0.05), (0.9, 0.0)) + arc(0.05, 0.05, 0.85, 0.95, 0, 75),
            line((0.3, 0.5), (0.8, 0.48)),
        ],  # curved stem with a crossbar
    ],
    8: [
        [
            arc(0.5, 0.25, 0.28, 0.25, 0, -270)
            + arc(0.5, 0.72, 0.34, 0.28, -90, 270)
            + arc(0.5, 0.25, 0.28, 0.25, 90, 0)
        ],
        [arc(0.5, 0.25, 0.26, 0.25, 0, 360), arc(0.5, 0.73, 0.32, 0.27, -90, 270)],
    ],
    9: [
        [arc(0.45, 0.3, 0.3, 0.3, 0, -360) + line((0.75, 0.3), (0.7, 1.0))],
        [
            arc(0.45, 0.3, 0.3, 0.3, 0, -360)
            + line((0.75, 0.3), (0.73, 0.7))
            + arc(0.45, 0.7, 0.28, 0.28, 0, 150)
        ],  # a curled tail
        [arc(0.45, 0.28, 0.32, 0.28, 10, -350) + arc(0.1, 0.3, 0.65, 0.7, 0, 100)],
        [
            arc(0.5, 0.2, 0.18, 0.18, 0, -360)
            + line((0.68, 0.2), (0.68, 0.72))
            + arc(0.38, 0.72, 0.3, 0.25, 0, 150)
        ],  # a small loop over a long hooked tail
        [arc(0.55, 0.22, 0.2, 0.2, 10, -350) + arc(0.2, 0.25, 0.55, 0.72, 0, 110)],
        [
            arc(0.45, 0.17, 0.2, 0.17, 10, -350)
            + line((0.65, 0.2), (0.63, 0.78))
            + arc(0.4, 0.78, 0.23, 0.2, 0, 170)
        ],  # a small loop, and a tail hooked back up to the left
    ],
}

CANVAS = 96  # render size; normalise_ink brings it to MNIST form
SUPERSAMPLE = 2


def draw_strokes(
    strokes, size: int | tuple[int, int], width: float, supersample: int
) -> Image.Image:
    """Strokes (lists of (x, y) in pixels of a size × size canvas, or of a (w, h) one) → an "L"
    image, 255 = ink.

    A round brush of diameter ``width``: lines with round joins, a disc at each stroke's ends (a
    one-point stroke is a dot), drawn ``supersample`` times larger and area-averaged down, which
    stands in for a browser canvas's anti-aliasing.
    """
    k = supersample
    w, h = (size, size) if isinstance(size, int) else size
    image = Image.new("L", (w * k, h * k), 0)
    draw = ImageDraw.Draw(image)
    r = width * k / 2
    for stroke in strokes:
        points = [(float(x) * k, float(y) * k) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(2 * r)), joint="curve")
        for x, y in (points[0], points[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return image.resize((w, h), Image.Resampling.BOX)


def sample(label: int, rng: np.random.Generator) -> np.ndarray:
    """One synthetic digit of class label → float32 (784,) in MNIST form."""
    return handwritten(*_style(label, rng), rng)


def _style(label: int, rng: np.random.Generator) -> tuple[list[Stroke], float]:
    """One of the label's templates, and how much to squeeze its width."""
    styles = TEMPLATES[label]
    strokes = styles[rng.integers(len(styles))]
    width_ratio = rng.uniform(0.45, 0.95) if label != 1 else rng.uniform(0.3, 0.8)
    return strokes, width_ratio


def handwritten(strokes: list[Stroke], width_ratio: float, rng: np.random.Generator) -> np.ndarray:
    """Strokes in a unit box (x right, y down) → float32 (784,) in MNIST form, as one person
    might write them (``shaped``), drawn with a brush of random width."""
    height = CANVAS * 0.7
    placed = [s * height + CANVAS / 2 for s in shaped(strokes, width_ratio, rng)]
    brush = height * rng.uniform(0.07, 0.15)
    ink = draw_strokes(placed, CANVAS, brush, SUPERSAMPLE)
    return normalise_ink(np.asarray(ink, dtype=np.float32) / 255)


def shaped(strokes: list[Stroke], width_ratio: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Strokes in a unit box (x right, y down) → the same strokes as one person might write
    them: wobbled by one smooth field (curves wobble, corners stay corners), jittered, squeezed
    to ``width_ratio``, slanted and turned; each (n, 2), centred on (0, 0), about 1 tall."""
    strokes = [np.array(s, dtype=np.float64) for s in strokes]
    slant = rng.uniform(-0.35, 0.25)  # x shifts by slant · (y − ½): most people lean right
    angle = np.deg2rad(rng.uniform(-8, 8))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    warp = rng.normal(0, 0.04, (2, 2)), rng.uniform(0, 2 * np.pi, 2)  # a smooth wobble
    out = []
    for s in strokes:
        (amp, phase) = warp
        s = s + np.stack(
            [
                amp[i, 0] * np.sin(np.pi * s[:, 1] + phase[i]) + amp[i, 1] * np.sin(np.pi * s[:, 0])
                for i in range(2)
            ],
            axis=1,
        )
        s = s + rng.normal(0, 0.008, s.shape)
        s[:, 0] = (s[:, 0] - 0.5) * width_ratio + slant * (s[:, 1] - 0.5)
        s[:, 1] = s[:, 1] - 0.5
        out.append(s @ rotation.T)
    return out


def example(label: int, rng: np.random.Generator, canvas: int, share: float = 0.6) -> list[Stroke]:
    """One digit of class ``label`` as pen strokes in pixels of a ``canvas`` × ``canvas`` pad,
    ``share`` of its side tall and centred: a style of the templates, shaped by hand as for
    training (``shaped``), for a page or a client to show or read."""
    return [
        [(float(x), float(y)) for x, y in np.round(s * share * canvas + canvas / 2, 1)]
        for s in shaped(*_style(label, rng), rng)
    ]


def synthetic_set(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n synthetic digits, classes balanced → uint8 images (n, 28, 28) and labels (n,)."""
    rng = np.random.default_rng([seed, 4])
    labels = np.arange(n) % 10
    # (n, 784) even for n = 0, which np.stack refuses: a run may add none of them
    images = np.array([sample(int(y), rng) for y in labels]).reshape(n, 784)
    return np.round(images * 255).astype(np.uint8).reshape(n, 28, 28), labels.astype(np.uint8)
