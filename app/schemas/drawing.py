"""The contract of the drawing routes: a drawing in, a prediction (or an explanation) out, and
the one error shape every route answers with.

Pixel conventions follow MNIST and the rest of the project: 28×28 values in [0, 1], 1 = ink.
Pixels are validated as one array rather than number by number: the schema only requires a list,
``app.inputs`` checks that it holds numbers and ``model.preprocess.pixels_to_mnist`` checks the
shape and range, so every problem with pixels gets the one code ``bad_pixels`` (and a 1000-item
batch is not validated 784,000 times over).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from app.examples import BATCH_EXAMPLE, SEVEN_DATA_URL, SEVEN_ROWS
from model.decode import ACCEPTED_FORMATS_TEXT
from model.network import ACTIVATIONS
from model.verdict import MIN_EXTENT, VERDICTS

Activation = Literal[tuple(ACTIVATIONS)]  # the names model/network.py defines
Verdict = Literal[VERDICTS]

_ROW = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}}
Pixels = Annotated[
    list,
    WithJsonSchema(
        {
            "anyOf": [
                {**_ROW, "minItems": 784, "maxItems": 784},
                {
                    "type": "array",
                    "items": {**_ROW, "minItems": 28, "maxItems": 28},
                    "minItems": 28,
                    "maxItems": 28,
                },
            ]
        }
    ),
]


class DrawingInput(BaseModel):
    """One drawing: exactly one of ``pixels`` or ``image``."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"image": SEVEN_DATA_URL}]}
    )

    pixels: Pixels | None = Field(
        None,
        description="MNIST-form pixels, used as they are: 784 numbers, or 28 rows of 28, each "
        "in [0, 1] with ink = 1.",
    )
    image: str | None = Field(
        None,
        description="An image as a base64 data URL (`data:image/png;base64,...`), as "
        f"`canvas.toDataURL()` makes. {ACCEPTED_FORMATS_TEXT}; it is preprocessed into "
        "MNIST form (ink found, cropped, scaled to 20×20, centred by mass).",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> DrawingInput:
        if (self.pixels is None) == (self.image is None):
            given = "both" if self.pixels is not None else "neither"
            raise PydanticCustomError(
                "pixels_or_image",
                "give exactly one of 'pixels' (784 numbers or 28 rows of 28 in [0, 1]) or "
                "'image' (a data URL such as data:image/png;base64,...), not {given}",
                {"given": given},
            )
        return self


class BatchRequest(BaseModel):
    """Several drawings, predicted in one pass; the limit on their number is in settings."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [BATCH_EXAMPLE]})

    items: list[DrawingInput] = Field(description="The drawings, in order (at least one).")


class ModelRef(BaseModel):
    """Which model answered."""

    version: str
    created: str


class Prediction(BaseModel):
    """The network's reading of one drawing."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "digit": 7,
                    "confidence": 0.981234,
                    "probabilities": [
                        0.0001,
                        0.0032,
                        0.0041,
                        0.0009,
                        0.0003,
                        0.0002,
                        0.0,
                        0.981234,
                        0.0021,
                        0.007866,
                    ],
                    "verdict": "digit",
                    "unsure": False,
                    "runner_up": 9,
                    "not_a_digit": 0.0012,
                    "too_small": False,
                    "model": {
                        "version": "20250101-120000-a1b2c3",
                        "created": "2025-01-01T12:00:00+00:00",
                    },
                }
            ]
        }
    )

    digit: int = Field(ge=0, le=9, description="The most likely digit.")
    confidence: float = Field(ge=0, le=1, description="The probability of `digit`.")
    probabilities: list[float] = Field(
        min_length=10,
        max_length=10,
        description="Each digit's probability, 0-9, calibrated (when the model says 90 %, it is "
        "right about 90 % of the time on drawn digits); sums to 1.",
    )
    verdict: Verdict = Field(
        description="`digit`; `unsure` (the top probability is under the service's threshold: "
        "`digit` and `runner_up` are the two candidates); or `not_a_digit` (the drawing is too "
        "small to be a digit, see `too_small`, or the model's 'not a digit' output says so)."
    )
    unsure: bool = Field(description="True exactly when `verdict` is `unsure`.")
    runner_up: int = Field(ge=0, le=9, description="The second most likely digit.")
    not_a_digit: float | None = Field(
        None,
        ge=0,
        le=1,
        description="The model's probability that this is no digit at all (its eleventh "
        "output), or null for a model without one.",
    )
    too_small: bool = Field(
        False,
        description=f"The ink's longer side, as drawn, is under {MIN_EXTENT:.0%} of the image's "
        "longer side (a tap, a dot): not a digit whatever the scores. Pixels sent in MNIST form "
        "are never too small.",
    )
    model: ModelRef
    input: list[list[float]] | None = Field(
        None,
        description="The 28×28 image the network saw, values in [0, 1], ink = 1. Only with "
        "`?include_input=true`.",
        examples=[SEVEN_ROWS],
    )


class LayerActivity(BaseModel):
    """One hidden layer's answer to the drawing: a = σ(z), z = W·a_below + b."""

    size: int = Field(description="Units in the layer.")
    activation: Activation = Field(description="σ, by name.")
    values: list[float] = Field(description="Each unit's activation a, in unit order.")


class Evidence(BaseModel):
    """Which ink pushed the answer: per pixel, x · ∂z/∂x (gradient × input) of a score z."""

    method: Literal["gradient_x_input"] = "gradient_x_input"
    digit: int = Field(ge=0, le=9, description="The top digit, whose score `for_digit` splits.")
    runner_up: int = Field(ge=0, le=9, description="The second digit.")
    for_digit: list[list[float]] = Field(
        description="28×28: each pixel's share of the score z of `digit`; positive pushed it up."
    )
    versus_runner_up: list[list[float]] = Field(
        description="28×28: the same for z of `digit` minus z of `runner_up`: positive pixels "
        "favour `digit` over `runner_up`."
    )
    bias_for_digit: float = Field(description="What the biases add to the score of `digit`.")
    bias_versus_runner_up: float = Field(description="What they add to the difference.")
    exact: bool = Field(
        description="True for a ReLU network: the map's sum plus the bias part equals the score "
        "(the network is linear around this drawing), before rounding: each of the 784 values is "
        "sent to 4 decimals, so their sum as sent may differ from the score in the third or "
        "fourth decimal. Otherwise a first-order reading."
    )


class Explanation(Prediction):
    """A prediction, and how the network arrived at it, layer by layer."""

    layers: list[LayerActivity] = Field(description="The hidden layers, input side first.")
    scores: list[float] = Field(
        min_length=10,
        max_length=11,
        description="z of the output layer, before softmax: digits 0-9, then 'not a digit' for a "
        "model that has that output.",
    )
    temperature: float = Field(
        description="T of the digits' softmax: probabilities = e^(z/T) ÷ Σ e^(z/T) over the ten "
        "digit scores (the model's calibration, as in GET /api/model)."
    )
    evidence: Evidence
    input: list[list[float]] = Field(
        description="The 28×28 image the network saw, values in [0, 1], ink = 1 (always sent "
        "here).",
        examples=[SEVEN_ROWS],
    )


class UnitWeights(BaseModel):
    id: int = Field(description="The unit's index in its layer.")
    scale: float = Field(
        description="The largest |weight| of the unit; weight = byte × scale / 127."
    )
    spread: float = Field(description="The standard deviation of its weights.")
    weights: str = Field(
        description="Base64 of 784 signed bytes: the 28×28 incoming weights, row by row."
    )


class Units(BaseModel):
    """First-layer units' incoming weights, each a 28×28 image of what the unit looks for."""

    version: str = Field(description="The model version these weights belong to.")
    layer: int
    size: int = Field(description="Units in the layer.")
    shape: list[int] = Field(description="Each unit's weights as an image: [28, 28].")
    units: list[UnitWeights]


class BatchResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One per item, in the items' order.")


class ModelCalibration(BaseModel):
    temperature: float = Field(
        description="The ten digit scores are divided by it before the softmax: fitted so that "
        "the probabilities match how often the answers are right on drawn digits."
    )
    not_a_digit_threshold: float | None = Field(
        description="The probability of the 'not a digit' output from which the verdict is "
        "`not_a_digit` (null for a model without that output)."
    )
    unsure_threshold: float = Field(
        description="A top digit probability under this gives the verdict `unsure` (a setting "
        "of the server, DIGITS_UNSURE_THRESHOLD)."
    )
    fitted_on: str | None = Field(
        description="The drawings the two numbers were fitted on (null: the defaults)."
    )


class ModelInfo(BaseModel):
    """The model this server is using."""

    version: str
    created: str
    sizes: list[int] = Field(
        description="Layer sizes, input first: [784, hidden..., 10], or 11 outputs for a model "
        "that learnt 'not a digit'."
    )
    activation: str = Field(description="The hidden layers' activation.")
    calibration: ModelCalibration = Field(description="What makes its answers mean what they say.")
    config: dict[str, Any] | None = Field(None, description="How it was trained (TrainConfig).")
    metrics: dict[str, Any] | None = Field(None, description="Its evaluation, e.g. test accuracy.")
    data_fingerprint: str | None = Field(None, description="Names the exact training data.")


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    model_version: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable reason.", examples=["blank_image"])
    message: str = Field(
        description="What was wrong and what is accepted.",
        examples=["the image is blank: no ink was found"],
    )
    details: Any = Field(None, description="Extra context, e.g. validation errors or an index.")


class ErrorResponse(BaseModel):
    error: ErrorDetail
