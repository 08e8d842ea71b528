"""The shared pen-digit trajectories, and a renderer that draws them as the browser canvas does.

The drawing page strokes with round caps and joins, black on a transparent canvas, with a brush
0.075 × the canvas side (static/js/canvas.js keeps the same rule). ``render`` reproduces that with
model.synth.draw_strokes, the round-brush renderer that also draws the synthetic training digits
(4× supersampled here, standing in for the canvas's anti-aliasing).

``mnist_form`` takes every trajectory the rest of the way, through model.preprocess.to_mnist, to
the (n, 784) input a network receives from the drawing page; the lecture lab evaluates on it.
These digits are evaluation data only: nothing trains on them.
"""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from model.preprocess import to_mnist
from model.synth import draw_strokes

SHARED = Path(__file__).resolve().parents[2] / "shared"
PEN_DIGITS = SHARED / "pen-digits" / "pendigits-train.json.gz"
PEN_MARKS = SHARED / "pen-marks" / "pen-marks-dev.json.gz"  # letters and symbols, same format
CANVAS = 280  # the page's canvas side in CSS pixels
BRUSH = 0.075  # brush diameter as a share of the canvas side
SUPERSAMPLE = 4


@dataclass(frozen=True)
class PenDigit:
    id: str
    label: int
    writer: str
    strokes: list[list[list[float]]]  # strokes → points → [x, y] in 0..1, y down


def load(path: Path = PEN_DIGITS) -> list[PenDigit]:
    with gzip.open(path, "rt") as f:
        return [PenDigit(d["id"], d["label"], d["writer"], d["strokes"]) for d in json.load(f)]


def placement(rng: np.random.Generator, canvas: int = CANVAS) -> tuple[float, float, float]:
    """A random (size, left, top) for a digit drawn on the canvas: its longer side spans 40–80 %
    of the canvas, anywhere that keeps it (and the brush) inside."""
    size = rng.uniform(0.40, 0.80) * canvas
    margin = BRUSH * canvas / 2
    left = rng.uniform(margin, canvas - size - margin)
    top = rng.uniform(margin, canvas - size - margin)
    return size, left, top


def to_canvas(
    digit: PenDigit, size: float, left: float, top: float
) -> list[list[tuple[float, float]]]:
    """The digit's strokes in canvas pixels."""
    return [[(left + x * size, top + y * size) for x, y in stroke] for stroke in digit.strokes]


def render(
    strokes: list[list[tuple[float, float]]],
    canvas: int | tuple[int, int] = CANVAS,
    brush: float | None = None,
) -> Image.Image:
    """Strokes in canvas pixels → an RGBA canvas image: round black brush on transparency.
    ``canvas`` is the side of a square canvas, or (width, height); the brush is BRUSH × the
    shorter side unless given, as the page's Number mode draws on its wider canvas."""
    width, height = (canvas, canvas) if isinstance(canvas, int) else canvas
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    brush = BRUSH * min(width, height) if brush is None else brush
    image.putalpha(draw_strokes(strokes, (width, height), brush, SUPERSAMPLE))
    return image


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ---- the MNIST form, for evaluating a network on these digits without a server ------------------


@dataclass(frozen=True)
class MnistForm:
    """Rendered drawings: x (n, 784) float32 in [0, 1] (ink = 1), labels (n,) (int64 digits, or
    the characters of ../shared/pen-marks, which has the same format), and the writer of each,
    in the file's order."""

    x: np.ndarray
    labels: np.ndarray
    writers: tuple[str, ...]


_cache: dict[tuple, MnistForm] = {}


def _render_chunk(args: tuple[list[PenDigit], list[int], int]) -> np.ndarray:
    digits, indices, seed = args
    out = np.empty((len(digits), 784), dtype=np.float32)
    for row, (digit, index) in enumerate(zip(digits, indices)):
        # Each digit's own generator: a sample or a split over processes draws it the same way.
        rng = np.random.default_rng([seed, index])
        out[row] = to_mnist(render(to_canvas(digit, *placement(rng))))
    return out


def mnist_form(
    seed: int = 0, limit: int | None = None, processes: int = 1, path: Path = PEN_DIGITS
) -> MnistForm:
    """Every trajectory (or a seeded sample of ``limit``, chosen as benchmarks/drawn_digits.py
    chooses it) drawn on the canvas at a random size and position, then brought to MNIST form by
    the server's own preprocessing. About 4 ms a digit; ``processes`` > 1 splits the work over
    forked processes. Kept in memory per (path, seed, limit), so a second call is free.
    """
    key = (str(path), seed, limit)
    if key in _cache:
        return _cache[key]
    digits = load(path)
    indices = list(range(len(digits)))
    if limit:
        indices = sorted(np.random.default_rng(seed).permutation(len(digits))[:limit].tolist())
    chosen = [digits[i] for i in indices]
    step = -(-len(chosen) // max(processes, 1))
    chunks = [
        (chosen[i : i + step], indices[i : i + step], seed) for i in range(0, len(chosen), step)
    ]
    if processes > 1 and len(chunks) > 1:
        with multiprocessing.get_context("fork").Pool(len(chunks)) as pool:
            parts = pool.map(_render_chunk, chunks)
    else:
        parts = [_render_chunk(chunk) for chunk in chunks]
    form = MnistForm(
        x=np.concatenate(parts) if parts else np.empty((0, 784), np.float32),
        labels=np.array([d.label for d in chosen]),  # ints for digits, strings for pen marks
        writers=tuple(d.writer for d in chosen),
    )
    _cache[key] = form
    return form
