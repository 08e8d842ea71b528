"""Synthetic pen marks that are not digits: the examples the network's eleventh class learns.

A network trained on digits alone names a digit for anything, and its softmax is sure of itself
far from what it has seen. So the shipped recipe adds a class, "not a digit", trained on marks a
person might draw instead: letters and symbols (the ones ``../shared/pen-marks`` keeps, from
stroke templates), scribbles, hatching, zigzags, spirals, stars and tallies. They are drawn by
the same hand as the synthetic digits (``model.synth.handwritten``: wobble, jitter, slant, turn,
brush), so that "looks synthetic" never tells a mark from a digit. Real letters and symbols
that people wrote (``model.real_marks``) join them in the same class.

Left out on purpose, as the pen-marks data leaves them out: anything a person could read as a
digit (O, l, I, S, Z, B, g, q, a lone stroke or circle, a square).
"""

from __future__ import annotations

import numpy as np

from model.synth import Stroke, arc, handwritten, line

# Letters and symbols, each a few styles of strokes in a unit box (x right, y down).
TEMPLATES: dict[str, list[list[Stroke]]] = {
    "A": [[line((0.05, 1.0), (0.5, 0.0), (0.95, 1.0)), line((0.25, 0.6), (0.75, 0.6))]],
    "C": [[arc(0.55, 0.5, 0.45, 0.5, -60, -300)]],
    "E": [
        [line((0.85, 0.0), (0.15, 0.0), (0.15, 1.0), (0.85, 1.0)), line((0.15, 0.5), (0.7, 0.5))],
        [arc(0.55, 0.27, 0.4, 0.27, -40, -270) + arc(0.55, 0.73, 0.42, 0.27, -90, -320)],
    ],
    "F": [
        [line((0.85, 0.0), (0.2, 0.0), (0.2, 1.0)), line((0.2, 0.48), (0.7, 0.48))],
        [
            line((0.2, 0.0), (0.2, 1.0)),
            line((0.2, 0.0), (0.85, 0.02)),
            line((0.2, 0.48), (0.7, 0.48)),
        ],
    ],
    "H": [
        [
            line((0.15, 0.0), (0.15, 1.0)),
            line((0.85, 0.0), (0.85, 1.0)),
            line((0.15, 0.5), (0.85, 0.5)),
        ]
    ],
    "K": [[line((0.2, 0.0), (0.2, 1.0)), line((0.85, 0.0), (0.2, 0.55), (0.9, 1.0))]],
    "L": [[line((0.25, 0.0), (0.25, 1.0), (0.9, 1.0))]],
    "M": [[line((0.05, 1.0), (0.12, 0.0), (0.5, 0.7), (0.88, 0.0), (0.95, 1.0))]],
    "N": [[line((0.12, 1.0), (0.15, 0.0), (0.85, 1.0), (0.88, 0.0))]],
    "P": [[line((0.2, 1.0), (0.2, 0.0)) + arc(0.45, 0.27, 0.4, 0.27, -90, 90) + [(0.2, 0.54)]]],
    "R": [
        [
            line((0.2, 1.0), (0.2, 0.0))
            + arc(0.45, 0.25, 0.38, 0.25, -90, 90)
            + line((0.25, 0.5), (0.9, 1.0))
        ]
    ],
    "V": [[line((0.05, 0.0), (0.5, 1.0), (0.95, 0.0))]],
    "W": [[line((0.0, 0.0), (0.25, 1.0), (0.5, 0.3), (0.75, 1.0), (1.0, 0.0))]],
    "X": [[line((0.1, 0.0), (0.9, 1.0)), line((0.9, 0.0), (0.1, 1.0))]],
    "a": [
        [arc(0.42, 0.68, 0.32, 0.3, -30, -360) + line((0.75, 0.4), (0.78, 1.0))],
        [arc(0.45, 0.62, 0.3, 0.36, -20, -340) + line((0.74, 0.3), (0.74, 0.9), (0.9, 1.0))],
        [
            arc(0.5, 0.3, 0.3, 0.22, 200, 360) + line((0.8, 0.3), (0.8, 1.0)),
            arc(0.5, 0.74, 0.3, 0.24, -10, -340),
        ],
    ],
    "c": [[arc(0.55, 0.7, 0.4, 0.3, -50, -310)]],
    "d": [
        [arc(0.42, 0.7, 0.32, 0.3, 0, -360), line((0.75, 0.0), (0.75, 1.0))],
        [arc(0.42, 0.72, 0.3, 0.28, -20, -370) + line((0.72, 0.55), (0.8, 0.0), (0.78, 1.0))],
    ],
    "e": [
        [line((0.12, 0.68), (0.85, 0.68)) + arc(0.5, 0.7, 0.37, 0.3, 0, -300)],
        [line((0.1, 0.6), (0.8, 0.42)) + arc(0.5, 0.55, 0.35, 0.42, -40, -320)],
    ],
    "h": [
        [line((0.2, 0.0), (0.2, 1.0)), arc(0.5, 0.7, 0.3, 0.3, 180, 360) + [(0.8, 1.0)]],
        [
            line((0.2, 0.0), (0.2, 1.0), (0.2, 0.75))
            + arc(0.5, 0.7, 0.3, 0.3, 180, 360)
            + [(0.82, 1.0)]
        ],
    ],
    "k": [
        [line((0.2, 0.0), (0.2, 1.0)), line((0.8, 0.35), (0.2, 0.7), (0.85, 1.0))],
        [
            line((0.2, 0.0), (0.2, 1.0), (0.2, 0.7))
            + arc(0.45, 0.55, 0.25, 0.15, 180, 400)
            + line((0.4, 0.7), (0.85, 1.0))
        ],
    ],
    "m": [
        [
            line((0.05, 1.0), (0.05, 0.45))
            + arc(0.27, 0.65, 0.22, 0.2, 180, 360)
            + line((0.49, 0.65), (0.49, 1.0))
            + arc(0.72, 0.65, 0.23, 0.2, 180, 360)
            + line((0.95, 0.65), (0.95, 1.0))
        ]
    ],
    "n": [
        [
            line((0.15, 1.0), (0.15, 0.4))
            + arc(0.5, 0.68, 0.35, 0.28, 180, 360)
            + line((0.85, 0.68), (0.85, 1.0))
        ]
    ],
    "p": [
        [line((0.2, 0.35), (0.2, 1.0)), arc(0.48, 0.5, 0.3, 0.17, 0, 360)],
        [line((0.2, 1.0), (0.2, 0.3)) + arc(0.45, 0.47, 0.27, 0.17, -90, 250)],
    ],
    "v": [[line((0.1, 0.4), (0.5, 1.0), (0.9, 0.4))]],
    "w": [[line((0.0, 0.4), (0.25, 1.0), (0.5, 0.55), (0.75, 1.0), (1.0, 0.4))]],
    "x": [
        [line((0.15, 0.4), (0.85, 1.0)), line((0.85, 0.4), (0.15, 1.0))],
        [arc(0.05, 0.7, 0.4, 0.3, -80, 80), arc(0.95, 0.7, 0.4, 0.3, 260, 100)],
    ],
    "#": [
        [
            line((0.35, 0.0), (0.25, 1.0)),
            line((0.7, 0.0), (0.6, 1.0)),
            line((0.05, 0.33), (0.95, 0.33)),
            line((0.0, 0.67), (0.9, 0.67)),
        ]
    ],
    "%": [
        [
            line((0.85, 0.0), (0.15, 1.0)),
            arc(0.22, 0.18, 0.15, 0.15, 0, 360),
            arc(0.78, 0.82, 0.15, 0.15, 0, 360),
        ],
        [
            arc(0.25, 0.2, 0.12, 0.16, 0, 360),
            line((0.8, 0.05), (0.25, 0.95)),
            arc(0.75, 0.8, 0.12, 0.16, 0, 360),
        ],
    ],
    "*": [
        [
            line((0.5, 0.0), (0.5, 1.0)),
            line((0.05, 0.25), (0.95, 0.75)),
            line((0.05, 0.75), (0.95, 0.25)),
        ]
    ],
    "+": [[line((0.5, 0.0), (0.5, 1.0)), line((0.0, 0.5), (1.0, 0.5))]],
    "<": [[line((0.9, 0.05), (0.1, 0.5), (0.9, 0.95))]],
    "=": [[line((0.05, 0.3), (0.95, 0.3)), line((0.05, 0.7), (0.95, 0.7))]],
    "~": [[arc(0.25, 0.5, 0.25, 0.25, 180, 360) + arc(0.75, 0.5, 0.25, 0.25, 180, 0)]],
}

PROCEDURAL = ("scribble", "hatching", "zigzag", "spiral", "star", "tally", "loops")
KINDS = (*TEMPLATES, *PROCEDURAL)


def marks(n: int, seed: int) -> np.ndarray:
    """n marks that are not digits, every kind alike → uint8 images (n, 28, 28) in MNIST form."""
    rng = np.random.default_rng([seed, 6])
    # (n, 784) even for n = 0, which np.stack refuses: a run may add none of them
    images = np.array([sample(KINDS[i % len(KINDS)], rng) for i in range(n)]).reshape(n, 784)
    return np.round(images * 255).astype(np.uint8).reshape(n, 28, 28)


def sample(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One mark of ``kind`` (a key of TEMPLATES or one of PROCEDURAL) → float32 (784,)."""
    return handwritten(strokes(kind, rng), rng.uniform(0.6, 1.0), rng)


def strokes(kind: str, rng: np.random.Generator) -> list[Stroke]:
    """The strokes of one mark of ``kind``, in a unit box (x right, y down)."""
    if kind in TEMPLATES:
        styles = TEMPLATES[kind]
        return styles[rng.integers(len(styles))]
    return _PROCEDURES[kind](rng)


def _scribble(rng: np.random.Generator) -> list[Stroke]:
    """A tangle: one stroke wandering with momentum through the box, 15–40 turns."""
    steps = int(rng.integers(15, 40))
    heading, point, points = rng.uniform(0, 2 * np.pi), rng.uniform(0.3, 0.7, 2), []
    for _ in range(steps):
        heading += rng.normal(0, 1.2)
        point = np.clip(point + 0.18 * np.array([np.cos(heading), np.sin(heading)]), 0, 1)
        points.append(tuple(point))
    return [points]


def _hatching(rng: np.random.Generator) -> list[Stroke]:
    """3–7 parallel strokes across the box, sometimes crossed by a second set."""
    count, tilt = int(rng.integers(3, 8)), rng.uniform(-0.4, 0.4)
    strokes = [line((0.0, y - tilt), (1.0, y + tilt)) for y in np.linspace(0.1, 0.9, count)]
    if rng.random() < 0.4:
        strokes += [line((x - tilt, 0.0), (x + tilt, 1.0)) for x in np.linspace(0.15, 0.85, 3)]
    return strokes


def _zigzag(rng: np.random.Generator) -> list[Stroke]:
    peaks = int(rng.integers(3, 7))
    xs = np.linspace(0, 1, 2 * peaks + 1)
    return [[(x, 0.2 if i % 2 else 0.8) for i, x in enumerate(xs)]]


def _spiral(rng: np.random.Generator) -> list[Stroke]:
    turns = rng.uniform(1.8, 3.5)
    t = np.linspace(0, 2 * np.pi * turns, 60)
    r = 0.5 * t / t[-1]
    return [list(zip(0.5 + r * np.cos(t), 0.5 + r * np.sin(t)))]


def _star(rng: np.random.Generator) -> list[Stroke]:
    """A five-pointed star in one stroke, or an asterisk of 3–5 crossing strokes."""
    if rng.random() < 0.5:
        t = -np.pi / 2 + np.arange(6) * 4 * np.pi / 5
        return [list(zip(0.5 + 0.5 * np.cos(t), 0.5 + 0.5 * np.sin(t)))]
    angles = np.linspace(0, np.pi, int(rng.integers(3, 6)), endpoint=False)
    return [
        line(
            (0.5 - 0.5 * np.cos(a), 0.5 - 0.5 * np.sin(a)),
            (0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)),
        )
        for a in angles
    ]


def _tally(rng: np.random.Generator) -> list[Stroke]:
    """Four strokes crossed by a fifth: five, counted."""
    strokes = [line((x, 0.05), (x, 0.95)) for x in (0.15, 0.38, 0.62, 0.85)]
    return strokes + [line((0.0, 0.8), (1.0, 0.2))]


def _loops(rng: np.random.Generator) -> list[Stroke]:
    """A row of cursive loops, like eeee or llll joined up."""
    count = int(rng.integers(3, 6))
    points = []
    for i in range(count):
        cx = (i + 0.5) / count
        points += arc(cx, 0.55, 0.6 / count, 0.4, 90, -270, steps=14)
    return [points]


_PROCEDURES = {
    "scribble": _scribble,
    "hatching": _hatching,
    "zigzag": _zigzag,
    "spiral": _spiral,
    "star": _star,
    "tally": _tally,
    "loops": _loops,
}
