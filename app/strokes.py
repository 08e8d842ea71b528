"""Pen strokes in a request → checked arrays, within bounds that keep drawing them cheap.

``POST /api/read`` takes ``{"strokes": [[[x, y], …], …], "width": W, "height": H}``: the pen
strokes in drawing order, in pixels of a W × H canvas (x right, y down). The strokes are drawn on
the server, so what a client sends must not be able to make that expensive. The policy:

- **The canvas**: ``width`` and ``height`` between ``MIN_SIDE`` and ``MAX_SIDE`` pixels, and at
  most ``max_pixels`` in all (``DIGITS_MAX_IMAGE_PIXELS``, as for an image).
- **The strokes**: at most ``MAX_STROKES``, with at most ``MAX_POINTS`` points between them.
  A stroke of no points is skipped; a stroke of one point is a tap, drawn as a dot.
- **The points**: pairs of finite numbers, within ``COORDINATE_REACH`` canvas sizes of the
  canvas (a pen that slides off the edge keeps sending points; the canvas cuts off their ink).
- **The brush** (optional): between ``MIN_BRUSH`` pixels and half the canvas's shorter side;
  by default ``model.pendigits.BRUSH`` × the shorter side, the page's own pen.

Every breach is a 422 ``bad_strokes`` that says which bound and what is accepted. Past these,
a drawing of more strokes than ``DIGITS_READ_MAX_DIGITS`` digits can be made of is refused as
``too_many_digits`` before any stroke is drawn (``model.segment.check_pieces``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.errors import ApiError
from app.inputs import value_types
from model.pendigits import BRUSH

MIN_SIDE, MAX_SIDE = 8, 8192
MAX_STROKES = 500
MAX_POINTS = 50_000
COORDINATE_REACH = 10  # points may lie up to 10 canvas widths (heights) outside the canvas
MIN_BRUSH = 0.5


@dataclass(frozen=True)
class Strokes:
    """Strokes that passed the bounds: each an (n, 2) float64 array of canvas pixels."""

    strokes: list[np.ndarray]
    width: float
    height: float
    brush: float


def check_strokes(
    strokes: list, width: float, height: float, brush: float | None, max_pixels: int
) -> Strokes:
    """The JSON values of a strokes request → Strokes (ApiError 422 ``bad_strokes``)."""
    for name, side in (("width", width), ("height", height)):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise _bad(f"'{name}' is {side:g}; the canvas must be {MIN_SIDE} to {MAX_SIDE} px")
    if width * height > max_pixels:
        raise _bad(
            f"the canvas is {width:g} × {height:g} px; at most {max_pixels} pixels are accepted"
        )
    if len(strokes) > MAX_STROKES:
        raise _bad(f"there are {len(strokes)} strokes; at most {MAX_STROKES} are accepted")
    arrays = []
    total = 0
    for i, stroke in enumerate(strokes):
        if not isinstance(stroke, list):
            raise _bad(f"stroke {i} is not a list of [x, y] points")
        total += len(stroke)
        if total > MAX_POINTS:
            raise _bad(f"the strokes hold over {MAX_POINTS} points, the most accepted in all")
        if not stroke:
            continue
        points = _points(stroke, i)
        reach_x, reach_y = COORDINATE_REACH * width, COORDINATE_REACH * height
        if (np.abs(points[:, 0] - width / 2) > reach_x).any() or (
            np.abs(points[:, 1] - height / 2) > reach_y
        ).any():
            raise _bad(
                f"stroke {i} has a point more than {COORDINATE_REACH} canvas sizes off the canvas"
            )
        arrays.append(points)
    if brush is None:
        brush = BRUSH * min(width, height)
    elif not MIN_BRUSH <= brush <= min(width, height) / 2:
        raise _bad(
            f"'brush' is {brush:g}; it must be {MIN_BRUSH} px to half the canvas's shorter side"
        )
    return Strokes(arrays, float(width), float(height), float(brush))


def _points(stroke: list, index: int) -> np.ndarray:
    """One stroke's JSON value → (n, 2) float64 of finite numbers (ApiError otherwise)."""
    try:
        points = np.asarray(stroke)  # no dtype yet, so that strings, booleans and nulls show
    except ValueError:  # points of different lengths make a ragged array
        raise _bad(f"stroke {index} has a point that is not [x, y]") from None
    if points.ndim != 2 or points.shape[1] != 2:
        raise _bad(f"stroke {index} has a point that is not [x, y]")
    if points.dtype.kind not in "iuf" or bool in value_types(stroke):
        raise _bad(f"stroke {index} has a coordinate that is not a number")
    with np.errstate(over="ignore"):  # 1e400 → inf, refused next
        points = points.astype(np.float64)
    if not np.isfinite(points).all():
        raise _bad(f"stroke {index} has a coordinate that is not a finite number")
    return points


def _bad(reason: str) -> ApiError:
    return ApiError(
        422,
        "bad_strokes",
        f"strokes must be lists of [x, y] points in pixels of a 'width' × 'height' canvas; "
        f"{reason}",
    )
