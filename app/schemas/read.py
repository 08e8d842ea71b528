"""The contract of ``POST /api/read``: a drawing of a whole number in, its digits out.

The strokes are validated as arrays by ``app.strokes`` rather than point by point here (the
schema only requires lists), so every problem with them gets the one code ``bad_strokes``, with
the bound it broke, and 50,000 points are not validated 100,000 times over.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from app.examples import NUMBER_DATA_URL, NUMBER_STROKES
from app.schemas.drawing import ModelRef, Prediction
from model.decode import ACCEPTED_FORMATS_TEXT
from model.verdict import MIN_EXTENT, MIN_SHARE

StrokesField = Annotated[
    list,
    WithJsonSchema(
        {
            "type": "array",
            "items": {
                "type": "array",
                "items": {
                    "type": "array",
                    "items": {"type": "number"},
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
        }
    ),
]


# An example's ten probabilities: 0-9, summing to 1.
PROBABILITIES_OF_A_TWO = [
    0.0001,
    0.0004,
    0.998021,
    0.0006,
    0.0,
    0.0001,
    0.0,
    0.0005,
    0.0002,
    7.9e-5,
]


class ReadInput(BaseModel):
    """A drawing of a number as JSON: an ``image`` (a data URL), or the pen ``strokes`` with the
    canvas's ``width`` and ``height``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [NUMBER_STROKES, {"image": NUMBER_DATA_URL}],
        },
    )

    image: str | None = Field(
        None,
        description="The drawing as a base64 data URL (`data:image/png;base64,...`), as "
        f"`canvas.toDataURL()` makes: {ACCEPTED_FORMATS_TEXT}.",
    )
    strokes: StrokesField | None = Field(
        None,
        description="The pen strokes in drawing order, each a list of [x, y] points in pixels "
        "of the canvas (x right, y down). At most 500 strokes and 50,000 points; points may "
        "leave the canvas (its edge cuts off their ink).",
    )
    # Strict: a number, not true (read as 1) or the text "280".
    width: float | None = Field(
        None,
        strict=True,
        description="The canvas's width in the strokes' pixels (8 to 8192); with strokes.",
    )
    height: float | None = Field(
        None,
        strict=True,
        description="The canvas's height in the strokes' pixels (8 to 8192); with strokes.",
    )
    brush: float | None = Field(
        None,
        strict=True,
        description="The pen's width in the same pixels; by default 0.075 × the shorter side, "
        "as the drawing page draws. With strokes.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_pixels(cls, data: Any) -> Any:
        if isinstance(data, dict) and "pixels" in data:
            raise PydanticCustomError(
                "pixels_not_a_number",
                "'pixels' are one digit already in MNIST form, which /api/predict reads; send a "
                "number as 'image' (a data URL) or as 'strokes' with 'width' and 'height'",
            )
        return data

    @model_validator(mode="after")
    def _image_or_strokes(self) -> ReadInput:
        if (self.image is None) == (self.strokes is None):
            given = "both" if self.image is not None else "neither"
            raise PydanticCustomError(
                "image_or_strokes",
                "give exactly one of 'image' (a data URL such as data:image/png;base64,...) or "
                "'strokes' (with 'width' and 'height'), not {given}",
                {"given": given},
            )
        canvas = (self.width, self.height, self.brush)
        if self.strokes is not None and (self.width is None or self.height is None):
            raise PydanticCustomError(
                "strokes_need_canvas",
                "'strokes' need the canvas's 'width' and 'height', in the strokes' pixels",
            )
        if self.image is not None and any(v is not None for v in canvas):
            raise PydanticCustomError(
                "canvas_without_strokes",
                "'width', 'height' and 'brush' go with 'strokes'; an image has its own size",
            )
        return self


class DigitReading(Prediction):
    """One digit of the number: the prediction for its ink alone, and where it is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "digit": 2,
                    "confidence": 0.998021,
                    "probabilities": PROBABILITIES_OF_A_TWO,
                    "verdict": "digit",
                    "unsure": False,
                    "runner_up": 3,
                    "not_a_digit": 0.0003,
                    "too_small": False,
                    "box": [36.0, 22.0, 92.0, 116.0],
                }
            ]
        }
    )

    model: ModelRef | None = Field(None, exclude=True)  # the number's `model` says it once
    too_small: bool = Field(
        False,
        description=f"Too small to be a digit: its ink's longer side is under {MIN_EXTENT:.0%} "
        "of the image's shorter side (for a square image, the rule of `/api/predict` for one "
        f"digit), or under {MIN_SHARE:.0%} of the tallest digit's height (a dot, a comma).",
    )
    box: list[float] = Field(
        min_length=4,
        max_length=4,
        description="[x0, y0, x1, y1]: the box of the digit's ink, in the input's pixels (the "
        "image's, or the strokes' canvas's), x right and y down.",
    )


class NumberReading(BaseModel):
    """The number read from a drawing, digit by digit."""

    number: str = Field(
        description="The digits read, left to right; marks that are no digit (`verdict` "
        "`not_a_digit`, such as a dot) are left out, so it can be empty.",
        examples=["2026"],
    )
    digits: list[DigitReading] = Field(
        description="Every mark found, left to right, each read as one digit."
    )
    unsure: bool = Field(description="True when any digit's verdict is `unsure`.")
    model: ModelRef


class ExampleStrokes(BaseModel):
    """A drawing as pen strokes, in the form ``POST /api/read`` takes."""

    strokes: list[list[tuple[float, float]]] = Field(
        description="Strokes in drawing order, each a list of [x, y] points in pixels of the "
        "canvas (x right, y down)."
    )
    width: float = Field(description="The canvas's width in the strokes' pixels.")
    height: float = Field(description="The canvas's height in the strokes' pixels.")


class ExampleDigit(BaseModel):
    """A digit drawn by the app's own hand, for a page or a client with nobody to draw."""

    digit: int = Field(ge=0, le=9, description="The digit drawn.")
    drawing: ExampleStrokes = Field(
        description="Its strokes on a 280 × 280 canvas, 60 % of it tall, centred: send it as it "
        "is to `POST /api/read`, or draw it (the page's pen is 7.5 % of the side)."
    )
