"""The contract of the admin routes: a retrain request, jobs, model versions, insights.

Choices and defaults come from the model's own definitions (``TrainConfig``, the activation and
loss tables, the feedback weight), and the job statuses from ``app.jobs``, so none is written
twice.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.jobs import ACTIVE, FINAL
from app.retrain_limits import RETRAIN_LIMITS
from app.schemas.drawing import Activation
from model.feedback_data import DEFAULT_WEIGHT
from model.losses import LOSSES
from model.train import TrainConfig

DEFAULTS = TrainConfig()
Loss = Literal[tuple(LOSSES)]
Status = Literal[tuple(sorted(ACTIVE | FINAL))]


def _within(name: str, what: str = ""):
    lo, hi = RETRAIN_LIMITS[name]

    def check(value):
        if not lo <= value <= hi:
            raise PydanticCustomError(
                "out_of_range",
                "{what}must be between {lo} and {hi}, got {value}",
                {"what": what, "lo": lo, "hi": hi, "value": value},
            )
        return value

    return AfterValidator(check)


Width = Annotated[int, _within("width", "each hidden layer width ")]


class RetrainRequest(BaseModel):
    """A training config. Every field is optional; a missing one takes the CLI's default."""

    # strict: "force": "on" was true (it promoted a 38 % model), "epochs": true was 1 and
    # "hidden_layers": ["8"] was [8]. A number is a number, a switch is true or false.
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"hidden_layers": [128], "epochs": 3, "augment": False},
                {"hidden_layers": [32], "epochs": 1, "max_train_samples": 2000, "force": True},
            ]
        },
    )

    hidden_layers: list[Width] = Field(
        default_factory=lambda: list(DEFAULTS.hidden),
        description="Hidden layer widths, input to output: 1 to 4 layers of 1 to 1024 units.",
    )
    activation: Activation = DEFAULTS.activation
    loss: Loss = DEFAULTS.loss
    epochs: Annotated[int, _within("epochs")] = DEFAULTS.epochs
    batch_size: Annotated[int, _within("batch_size")] = DEFAULTS.batch_size
    learning_rate: Annotated[float, _within("learning_rate")] = DEFAULTS.learning_rate
    momentum: Annotated[float, _within("momentum")] = DEFAULTS.momentum
    weight_decay: Annotated[float, _within("weight_decay")] = DEFAULTS.weight_decay
    augment: bool = DEFAULTS.augment
    seed: Annotated[int, _within("seed")] = DEFAULTS.seed
    max_train_samples: Annotated[int, _within("max_train_samples")] | None = Field(
        None,
        description="Train on a random subset of this many of the 55,000 MNIST training "
        "images that the validation split leaves (100 to 55000).",
    )
    include_feedback: bool = Field(
        False,
        description="Also train on the user-labelled drawings (all but the fixed held-back 20%).",
    )
    feedback_weight: Annotated[int, _within("feedback_weight")] = Field(
        DEFAULT_WEIGHT, description="How many times each drawing is repeated per epoch."
    )
    force: bool = Field(False, description="Promote the new model even if it fails the gate.")

    @field_validator("hidden_layers")
    @classmethod
    def _layer_count(cls, widths: list[int]) -> list[int]:
        lo, hi = RETRAIN_LIMITS["hidden_layers"]
        if not lo <= len(widths) <= hi:
            raise PydanticCustomError(
                "out_of_range",
                "must have between {lo} and {hi} hidden layers, got {n}",
                {"lo": lo, "hi": hi, "n": len(widths)},
            )
        return widths

    def train_config(self) -> TrainConfig:
        fields = self.model_dump(
            exclude={"hidden_layers", "include_feedback", "feedback_weight", "force"}
        )
        return TrainConfig(hidden=tuple(self.hidden_layers), **fields)


class RetrainAccepted(BaseModel):
    job_id: str
    status_url: str = Field(description="GET it for the job's status, history and result.")
    events_url: str = Field(description="A Server-Sent Events stream of the job's progress.")


class JobRecord(BaseModel):
    """A training job as it is recorded: what was asked, how it went, and how it ended."""

    # A job may record more than these, and a record from an older release fewer: it is listed
    # all the same.
    model_config = ConfigDict(extra="allow")

    id: str
    status: Status = Field(description="queued and running while it lives, then one of the rest.")
    created: str | None = None
    started: str | None = None
    finished: str | None = None
    request: dict[str, Any] = Field(
        default_factory=dict, description="The retrain request as it was accepted."
    )
    config: dict[str, Any] = Field(
        default_factory=dict, description="The TrainConfig it trains with."
    )
    gate_tolerance_pp: float | None = None
    force: bool = False
    phase: str | None = Field(
        None,
        description="What a running job is doing: fetching MNIST, loading data, rendering drawn "
        "digits, preparing the training set, training, evaluating, promoting.",
    )
    progress: dict[str, Any] | None = Field(None, description="The latest progress event.")
    history: list[dict[str, Any]] = Field(
        default_factory=list, description="One event per finished epoch (not in job lists)."
    )
    result: dict[str, Any] | None = Field(
        None, description="Both models' figures, the gate's verdict and the new version."
    )
    reason: str | None = Field(None, description="How it ended, in words.")
    pid: int | None = None
    notes: list[str] = Field(default_factory=list)
    parent: str | None = Field(None, description="The version that was active when it began.")


class JobList(BaseModel):
    jobs: list[JobRecord] = Field(description="Newest first, without their history.")
    running: str | None = Field(description="The id of the job that is still going, if any.")


class CancelAccepted(BaseModel):
    job_id: str
    status: Status
    cancelling: bool


class ModelMetrics(BaseModel):
    mnist_test_accuracy: float | None = None
    validation_accuracy: float | None = None
    best_epoch: int | None = None
    train_seconds: float | None = None
    feedback_accuracy: float | None = None
    feedback_size: int | None = None


class ModelSummary(BaseModel):
    """One version in the registry. A version whose file cannot be read says why in ``error``."""

    version: str
    active: bool
    created: str | None = None
    parent: str | None = None
    job_id: str | None = None
    sizes: list[int] | None = None
    activation: str | None = None
    config: dict[str, Any] | None = None
    metrics: ModelMetrics
    feedback: dict[str, Any] | None = None
    gate: dict[str, Any] | None = None
    sha256: str | None = None
    error: str | None = None


class ModelList(BaseModel):
    active: str | None = Field(description="The registry's active version.")
    serving: str | None = Field(description="The version this worker serves right now.")
    models: list[ModelSummary] = Field(description="Newest first.")


class Activated(BaseModel):
    active: str
    serving: str | None = Field(
        description="This worker's version (the others follow within a poll interval)."
    )


class Mistake(BaseModel):
    index: int = Field(description="The digit's index in the MNIST test set.")
    label: int
    predicted: int = Field(description="0-9, or 10 for 'not a digit'.")
    confidence: float
    probability_of_label: float
    pixels_base64: str = Field(description="784 bytes, row-major, 0-255 with ink = 255.")


class Insights(BaseModel):
    """What the served model gets wrong on the MNIST test set."""

    version: str
    accuracy: float = Field(
        description="Share of test digits answered right; a digit flagged 'not a digit' counts "
        "as wrong."
    )
    digit_accuracy: float = Field(
        description="Share whose digit named (the likeliest of the ten) is right, as GET "
        "/api/model's mnist_test_digit_accuracy counts; equal to accuracy for a ten-output model."
    )
    test_size: int
    errors: int
    confusion: list[list[int]] = Field(
        description="Rows = true digit; columns = predicted, with an eleventh for 'not a digit' "
        "when the model has that output."
    )
    most_confident_mistakes: list[Mistake]


class WorkerInfo(BaseModel):
    pid: int
    serving: str | None
    active: str | None
    loads: int = Field(description="Models this worker has loaded, the first included.")
