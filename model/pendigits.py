"""The shared pen-digit trajectories, and a renderer that draws them as the browser canvas does.

The drawing page strokes with round caps and joins, black on a transparent canvas, with a brush
0.075 × the canvas side (static/js/canvas.js keeps the same rule). ``render`` reproduces that with
model.synth.draw_strokes, the round-brush renderer that also draws the synthetic training digits
(4× supersampled here, standing in for the canvas's anti-aliasing).
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from model.synth import draw_strokes

PEN_DIGITS = (
    Path(__file__).resolve().parents[2] / "shared" / "pen-digits" / "pendigits-train.json.gz"
)
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


def render(strokes: list[list[tuple[float, float]]], canvas: int = CANVAS) -> Image.Image:
    """Strokes in canvas pixels → an RGBA canvas image: round black brush on transparency."""
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    image.putalpha(draw_strokes(strokes, canvas, BRUSH * canvas, SUPERSAMPLE))
    return image


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
