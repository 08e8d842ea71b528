"""A drawing of a number → its pieces of ink: the parts that one digit or more are made of.

``model.segment`` groups pieces into digits; this module only finds them, in one of two ways.

- **From an image** (``from_image``): the ink of ``model.preprocess.ink_region``, thresholded as
  preprocessing thresholds it, split into 8-connected components (``model.components``). A
  component wider than ``CUT_WIDTH`` × the line height may be two digits that touch: it is also
  cut at the low points ("valleys") of its column profile, the number of ink pixels in each
  column, where a vertical line crosses little ink. Each cut makes two pieces; ``model.segment``
  puts them back together if the network reads the whole better than the halves. Specks (a few
  pixels of noise) are not pieces: each joins the digit nearest to it.
- **From strokes** (``from_strokes``): each pen stroke is a piece, drawn alone with the page's
  round brush, so two digits that touch but were written in separate strokes come apart for
  free.

Every piece keeps its own ink, so a digit is the union of its pieces' ink, and two digits that
overlap each keep their own. Pieces are drawn on a "work grid": the input's pixels, or for
strokes a grid scaled so that the tallest stroke is ``WORK_HEIGHT`` pixels (a digit ends up 20
pixels tall in MNIST form: more resolution would cost time and change nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from model.components import components, runs
from model.preprocess import INK_THRESHOLD, MIN_CONTRAST, BlankImageError, ink_region

WORK_HEIGHT = 112  # strokes are drawn so that the tallest is at most this many pixels
MAX_WORK_SIDE = 1024  # an image's ink is looked at no larger than this (its longer side)
SUPERSAMPLE = 2  # strokes are drawn this many times larger, then area-averaged down
CUT_WIDTH = 0.7  # a component at least this wide (× line height) may be two touching digits
CUT_MARGIN = 0.2  # no cut nearer than this (× line height) to a component's left or right end
CUT_SPACING = 0.3  # nor nearer than this to another cut
CUT_DEPTH = 0.5  # a valley holds at most this share of the component's fullest column
NOTCH_DEPTH = 0.1  # a notch in the outline is at least this deep (× line height)
SPECK = 0.5  # ink whose longer side is under this × the stroke width is a speck


@dataclass(frozen=True)
class Piece:
    """Ink that belongs to one digit (or to a few that touch, before it is cut)."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1 on the work grid, ends exclusive
    ink: np.ndarray  # float32 (y1 - y0, x1 - x0) in [0, 1]: this piece's ink alone
    strokes: tuple[int, ...] = ()  # the strokes it is made of (drawing order), for strokes
    whole: int = -1  # for a part cut from a component: which component (else -1)
    crossed: int = 0  # for a part cut on its left: the strokes (ink runs) that cut crossed

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def centre(self) -> float:
        return (self.box[0] + self.box[2]) / 2


@dataclass(frozen=True)
class Pieces:
    """A drawing's pieces, left to right by the centres of their boxes, and how the work grid
    maps back to the input: input pixel = origin + work pixel / scale."""

    items: list[Piece]
    size: tuple[float, float]  # the input's (width, height) in its own pixels
    scale: float  # work-grid pixels per input pixel
    origin: tuple[float, float]  # the input pixel at the work grid's (0, 0)
    specks: list[Piece] = field(default_factory=list)  # to join the nearest digit
    whole: np.ndarray | None = None  # an image's ink as /api/predict reads it (for one digit)

    def to_input(self, box: Sequence[float]) -> tuple[float, float, float, float]:
        """A box on the work grid → the same box in the input's pixels."""
        x0, y0, x1, y1 = box
        ox, oy = self.origin
        k = 1.0 / self.scale
        return (ox + x0 * k, oy + y0 * k, ox + x1 * k, oy + y1 * k)


def line_height(pieces: Sequence[Piece]) -> float:
    """The height of a digit in this drawing: the median height of the pieces at least half as
    tall as the tallest (a 5's detached bar, a dot or a crossbar do not count)."""
    heights = np.array([p.height for p in pieces], dtype=np.float64)
    return float(np.median(heights[heights >= heights.max() / 2]))


# ---- from an image ---------------------------------------------------------------------------


def from_image(image: Image.Image) -> Pieces:
    """A decoded image → its pieces (BlankImageError when it has no ink)."""
    ink, (left, top) = ink_region(image)
    whole = ink
    peak = float(ink.max()) if ink.size else 0.0
    if peak < MIN_CONTRAST:
        raise BlankImageError()
    scale = 1.0
    if max(ink.shape) > MAX_WORK_SIDE:  # a photo: look at it smaller, as a drawing's size
        scale = MAX_WORK_SIDE / max(ink.shape)
        h, w = max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))
        ink = np.asarray(Image.fromarray(ink, mode="F").resize((w, h), Image.Resampling.BOX))
        peak = float(ink.max())
    mask = ink >= INK_THRESHOLD * peak  # the pixels preprocessing keeps
    found = components(mask)
    _, starts, stops = runs(mask)
    stroke_width = float(np.median(stops - starts))  # across a stroke, mostly
    pieces, specks = [], []
    for label, (x0, y0, x1, y1) in enumerate(found.boxes.tolist()):
        crop = np.where(found.labels[y0:y1, x0:x1] == label, ink[y0:y1, x0:x1], 0.0)
        piece = Piece((x0, y0, x1, y1), crop.astype(np.float32))
        speck = max(x1 - x0, y1 - y0) < max(2.0, SPECK * stroke_width)
        (specks if speck else pieces).append(piece)
    if not pieces:  # nothing but specks: they are the drawing
        pieces, specks = specks, []
    height = line_height(pieces)
    cut = [part for index, piece in enumerate(pieces) for part in _cut(piece, height, index)]
    cut.sort(key=lambda p: p.centre)
    return Pieces(cut, image.size, scale, (float(left), float(top)), specks, whole)


def _cut(piece: Piece, height: float, index: int) -> list[Piece]:
    """A piece, cut where it may be two digits that touch, if it is wide enough to be (itself
    alone otherwise). Two kinds of place: notches in its outline, where the top edge dips or
    the bottom edge rises between two humps (two 0s side by side), and valleys in its column
    profile, where a vertical line crosses little ink (a 2 whose tail runs into a 3)."""
    if piece.width < max(3, CUT_WIDTH * height):  # 3: the profile's smoothing window
        return [piece]
    inked = piece.ink > 0
    margin, spacing = CUT_MARGIN * height, CUT_SPACING * height
    inside = np.arange(piece.width)
    inside = (inside >= margin) & (inside <= piece.width - margin)
    filled = inked.any(axis=0)
    top = np.where(filled, inked.argmax(axis=0), piece.height).astype(np.float64)
    bottom = np.where(filled, piece.height - 1 - inked[::-1].argmax(axis=0), 0).astype(np.float64)
    notches = np.maximum(_notch_depth(top, spacing), _notch_depth(-bottom, spacing))
    deep = inside & (notches >= NOTCH_DEPTH * height)
    profile = inked.sum(axis=0).astype(np.float64)
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")
    low = np.zeros(piece.width, dtype=bool)
    low[1:-1] = (smooth[1:-1] <= smooth[:-2]) & (smooth[1:-1] <= smooth[2:])  # local minima
    low &= inside & (smooth <= CUT_DEPTH * profile.max())
    # The deepest notches first, then the lowest valleys; no two cuts too close.
    notched = sorted(np.flatnonzero(deep), key=lambda x: (-notches[x], x))
    order = notched + sorted(np.flatnonzero(low), key=lambda x: (smooth[x], x))
    cuts: list[int] = []
    for x in order:
        if all(abs(x - c) >= spacing for c in cuts):
            cuts.append(int(x))
    parts = []
    for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), piece.width]):
        column = inked[:, a]
        crossed = int(np.count_nonzero(column[1:] & ~column[:-1]) + column[0]) if a else 0
        part = _trimmed(piece, a, b, index, crossed)
        if part is not None:
            parts.append(part)
    return parts


def _notch_depth(edge: np.ndarray, reach: float) -> np.ndarray:
    """How far each column's edge (n,) (rows; larger = further into the ink) sits below the
    highest edge on both sides within ``reach`` columns: the depth of a notch there."""
    n, r = len(edge), max(1, int(reach))
    padded = np.concatenate([np.full(r, np.inf), edge, np.full(r, np.inf)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, r)
    left, right = windows[:n].min(axis=1), windows[r + 1 : r + 1 + n].min(axis=1)
    return edge - np.maximum(left, right)


def _trimmed(piece: Piece, a: int, b: int, whole: int, crossed: int) -> Piece | None:
    """The columns a..b of a piece, trimmed to their ink (None if they hold none)."""
    ink = piece.ink[:, a:b]
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0:
        return None
    x0, y0 = piece.box[0] + a + int(cols[0]), piece.box[1] + int(rows[0])
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    box = (x0, y0, x0 + crop.shape[1], y0 + crop.shape[0])
    return Piece(box, crop, piece.strokes, whole, crossed)


# ---- from strokes ----------------------------------------------------------------------------


def _draw(points: np.ndarray, size: tuple[int, int], brush: float) -> np.ndarray:
    """One stroke's points (n, 2) → its ink (h, w) float32, drawn with a round brush: a line
    through the points and a disc at each (round joins and caps, a tap a dot), SUPERSAMPLE times
    larger and area-averaged down. Points closer than a fifth of the brush to the last one kept
    are skipped: they change no pixel worth having, and a page's stroke has hundreds."""
    keep = [0]
    for i in range(1, len(points)):
        if np.hypot(*(points[i] - points[keep[-1]])) >= brush / 5 or i == len(points) - 1:
            keep.append(i)
    k = SUPERSAMPLE
    scaled = points[keep] * k
    image = Image.new("L", (size[0] * k, size[1] * k), 0)
    draw = ImageDraw.Draw(image)
    r = brush * k / 2
    flat = scaled.ravel().tolist()
    if len(keep) > 1:
        draw.line(flat, fill=255, width=max(1, round(2 * r)))
    for x, y in scaled.tolist():
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    if k > 1:
        image = image.resize(size, Image.Resampling.BOX)
    return np.asarray(image, dtype=np.float32) / np.float32(255)


def from_strokes(
    strokes: Sequence[Sequence[Sequence[float]]], width: float, height: float, brush: float
) -> Pieces:
    """Pen strokes ([[x, y], …] per stroke, in drawing order, in pixels of a width × height
    canvas) drawn with a round brush ``brush`` pixels wide → one piece per stroke (ink that
    falls outside the canvas is cut off, as the canvas cuts it off)."""
    arrays = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        raise BlankImageError("the strokes are empty: no ink was drawn")
    r = brush / 2
    boxes = []
    for a in arrays:  # each stroke's ink box, clipped to the canvas
        (x0, y0), (x1, y1) = a.min(axis=0) - r, a.max(axis=0) + r
        boxes.append((max(x0, 0.0), max(y0, 0.0), min(x1, width), min(y1, height)))
    tallest = max(b[3] - b[1] for b in boxes)
    scale = min(1.0, WORK_HEIGHT / max(tallest, 1e-9))
    pieces = []
    for index, (a, (x0, y0, x1, y1)) in enumerate(zip(arrays, boxes)):
        if x1 <= x0 or y1 <= y0:
            continue  # drawn wholly off the canvas
        gx0, gy0 = int(np.floor(x0 * scale)), int(np.floor(y0 * scale))
        gx1, gy1 = int(np.ceil(x1 * scale)), int(np.ceil(y1 * scale))
        ink = _draw(a * scale - (gx0, gy0), (gx1 - gx0, gy1 - gy0), brush * scale)
        if ink.max() >= MIN_CONTRAST:
            pieces.append(Piece((gx0, gy0, gx1, gy1), ink, (index,)))
    if not pieces:
        raise BlankImageError("the strokes are all outside the canvas: no ink was drawn")
    pieces.sort(key=lambda p: p.centre)
    return Pieces(pieces, (float(width), float(height)), scale, (0.0, 0.0))
