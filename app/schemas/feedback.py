"""The contract of the feedback routes: what a person says of a drawing, and the admin's review."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.examples import SEVEN_DATA_URL
from app.feedback.store import MODEL_VERSION_MAX_LENGTH
from app.schemas.drawing import DrawingInput

Digit = Annotated[int, Field(ge=0, le=9)]


class FeedbackLabels(BaseModel):
    """What a person says of a drawing. The JSON form carries these fields next to the drawing
    (``FeedbackInput``); multipart and raw images carry them as form fields or query parameters."""

    model_config = ConfigDict(extra="ignore")

    label: Digit = Field(description="The digit the drawing really is, 0 to 9.")
    predicted: Digit | None = Field(None, description="The digit the model said, if it was asked.")
    model_version: str | None = Field(
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
    label: Digit
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


class FeedbackPage(BaseModel):
    items: list[FeedbackItem]
    page: int
    per_page: int
    total: int = Field(description="Samples matching the filters, on every page.")
    pages: int
    counts: FeedbackCounts = Field(description="Counts over the whole store (no filters).")


class Relabel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Digit


class FeedbackImported(BaseModel):
    added: int = Field(description="Samples that were new.")
    skipped: int = Field(description="Samples already in the store (same 28×28 and label).")
    total: int = Field(description="Samples in the store now.")
