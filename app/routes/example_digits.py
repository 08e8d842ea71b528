"""A digit drawn by the app's own hand: for the page's "Example" (a keyboard, a projector, or a
learner who wants to see one first) and for a client that wants strokes to send to /api/read.

The strokes come from the templates the training set's synthetic digits are drawn from
(``model.synth``), shaped by hand the same way; the same ``seed`` gives the same drawing.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Query

from app.schemas import ExampleDigit, ExampleStrokes
from model import pendigits, synth

router = APIRouter(prefix="/api", tags=["predict"])

CANVAS = pendigits.CANVAS  # the drawing page's pad, 280 CSS pixels: one place for that fact


@router.get("/examples/{digit}", response_model=ExampleDigit, summary="A digit to draw or read")
def example_digit(
    digit: Annotated[int, Path(ge=0, le=9, description="The digit to draw, 0 to 9.")],
    seed: Annotated[
        int | None,
        Query(ge=0, le=2**32 - 1, description="The same seed gives the same drawing."),
    ] = None,
) -> ExampleDigit:
    """The digit as pen strokes, in one of its handwritten styles."""
    rng = np.random.default_rng(secrets.randbits(32) if seed is None else seed)
    strokes = synth.example(digit, rng, CANVAS)
    return ExampleDigit(
        digit=digit, drawing=ExampleStrokes(strokes=strokes, width=CANVAS, height=CANVAS)
    )
