"""The contract of the feedback routes: what a person says of a drawing, and the admin's review."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.examples import SEVEN_DATA_URL
from app.feedback.store import MODEL_VERSION_MAX_LENGTH, MODEL_VERSION_TEXT
from app.schemas.drawing import DrawingInput
from model.train import NOT_A_DIGIT

Digit = Annotated[int, Field(ge=0, le=9)]


def _label(value: object) -> int | str:
    """A digit 0-9 (a number, or the text of one from a form or a query), or 'not_a_digit'."""
    if value == "not_a_digit":
        return value
    if isinstance(value, str) and len(value.strip()) == 1 and value.strip() in "0123456789":
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
        return value
    raise PydanticCustomError(
        "label", "must be a digit 0 to 9 or 'not_a_digit', got {value}", {"value": repr(value)}
    )


# What a drawing really is: a digit, or no digit at all (stored as the label NOT_A_DIGIT, 10).
Label = Annotated[
    int | Literal["not_a_digit"],
    PlainValidator(_label),
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 9}, {"const": "not_a_digit"}]}
    ),
]


def _version_text(value: str | None) -> str | None:
    if value is not None and not MODEL_VERSION_TEXT.fullmatch(value):
        raise PydanticCustomError("model_version", "must be text without control characters")
    return value


def stored_label(label: int | str) -> int:
    """An API label → the store's integer (0-9, or 10 for "not_a_digit")."""
    return NOT_A_DIGIT if label == "not_a_digit" else int(label)


def api_label(label: int) -> int | str:
    """The store's integer → the API label."""
    return "not_a_digit" if label == NOT_A_DIGIT else label


class FeedbackLabels(BaseModel):
    """What a person says of a drawing. The JSON form carries these fields next to the drawing
    (``FeedbackInput``); multipart and raw images carry them as form fields or query parameters."""

    model_config = ConfigDict(extra="ignore")

    label: Label = Field(
        description="What the drawing really is: a digit 0 to 9, or `not_a_digit`."
    )
    predicted: Digit | None = Field(None, description="The digit the model said, if it was asked.")
    model_version: Annotated[str | None, AfterValidator(_version_text)] = Field(
        None,
        max_length=MODEL_VERSION_MAX_LENGTH,
        description="The model version that made `predicted`.",
    )


class FeedbackInput(FeedbackLabels, DrawingInput):
    """A drawing and the digit it really is, as JSON."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "image": SEVEN_DATA_URL,
                    "label": 7,
                    "predicted": 1,
                    "model_version": "20250101-120000-a1b2c3",
                }
            ]
        },
    )


class FeedbackCreated(BaseModel):
    id: int = Field(description="The stored sample's id.")


class FeedbackItem(BaseModel):
    id: int
    created: str
    label: Label
    predicted: Digit | None
    model_version: str | None
    wrong: bool = Field(description="The model's prediction differs from the label.")
    has_original: bool = Field(description="The original image is stored as well.")
    thumbnail: str = Field(description="The 28×28 the network saw, as a PNG data URL.")


class FeedbackCounts(BaseModel):
    total: int
    wrong: int
    by_label: list[int] = Field(description="Samples per digit 0-9.")
    wrong_by_label: list[int] = Field(description="Of those, how many the model had got wrong.")
    not_a_digit: int = Field(0, description="Samples that are no digit at all.")
    wrong_not_a_digit: int = Field(0, description="Of those, how many the model read as a digit.")


class FeedbackPage(BaseModel):
    items: list[FeedbackItem]
    page: int
    per_page: int
    total: int = Field(description="Samples matching the filters, on every page.")
    pages: int
    counts: FeedbackCounts = Field(description="Counts over the whole store (no filters).")


class Relabel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Label


class FeedbackImported(BaseModel):
    added: int = Field(description="Samples that were new.")
    skipped: int = Field(description="Samples already in the store (same 28×28 and label).")
    total: int = Field(description="Samples in the store now.")
