"""Drawings in, predictions (and explanations, and numbers) out: preprocess, one forward pass,
shape the answer.

CPU-bound throughout, so routes call it from the threadpool, never on the event loop.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from app.config import Settings
from app.errors import ApiError
from app.inputs import (
    Drawing,
    DrawingDecoder,
    JsonDrawing,
    decode_data_url,
    image_error,
    parse_json,
)
from app.metrics import Metrics
from app.schemas import (
    DigitReading,
    Evidence,
    Explanation,
    LayerActivity,
    ModelRef,
    NumberReading,
    Prediction,
    ReadInput,
)
from app.serving import ModelServer
from app.strokes import check_strokes
from model import pieces
from model.decode import ImageError
from model.explain import Explanation as ExplainResult
from model.explain import explain
from model.modelfile import LoadedModel
from model.segment import TooManyDigitsError, check_pieces, segment
from model.verdict import NOT_A_DIGIT, UNSURE, Calibration, read, too_small_in_number

PROBABILITY_DECIMALS = 6  # the ten still sum to 1 within 1e-5
PIXEL_DECIMALS = 4  # finer than the 1/255 steps of an 8-bit image
# A pixel's evidence is a small share of a score of about 10: 4 decimals keep the map's sum
# within 0.04 of the exact one, and the shipped model's explanation under 40 kB.
EVIDENCE_DECIMALS = 4


class Predictor:
    """Turns drawings into predictions with the served model, counting digits and verdicts."""

    def __init__(self, server: ModelServer, settings: Settings, metrics: Metrics):
        self.server = server
        self.settings = settings
        self.metrics = metrics

    def predict_one(self, drawing: Drawing, include_input: bool = False) -> Prediction:
        prepared = DrawingDecoder(self.settings.decode_limits).prepare(drawing)
        x, extents = prepared.pixels[np.newaxis], np.array([prepared.extent])
        return self._answers(self.server.current(), x, extents, include_input)[0]

    def predict_batch(
        self, drawings: Sequence[Drawing], include_input: bool = False
    ) -> list[Prediction]:
        """All drawings in one vectorised forward pass; predictions in the drawings' order."""
        limit = self.settings.batch_limit
        if not drawings:
            raise ApiError(422, "empty_batch", f"'items' is empty; send 1 to {limit} drawings")
        if len(drawings) > limit:
            raise ApiError(
                422,
                "batch_too_large",
                f"'items' has {len(drawings)} drawings; at most {limit} are accepted per request",
            )
        decoder = DrawingDecoder(self.settings.decode_limits, self.settings.max_batch_pixels)
        x, extents = decoder.prepare_all(drawings)
        return self._answers(self.server.current(), x, extents, include_input)

    def read_number(self, drawing: Drawing, include_input: bool = False) -> NumberReading:
        """A drawing of a whole number (image bytes, or ReadInput: a data URL or strokes) → its
        digits, left to right, each read as /api/predict reads one digit (``model.segment``)."""
        if isinstance(drawing, JsonDrawing):
            drawing = parse_json(drawing.body, drawing.schema)
        limit = self.settings.read_max_digits
        try:
            if isinstance(drawing, ReadInput) and drawing.strokes is not None:
                strokes = check_strokes(
                    drawing.strokes,
                    drawing.width,
                    drawing.height,
                    drawing.brush,
                    self.settings.max_image_pixels,
                )
                check_pieces(len(strokes.strokes), limit)  # before any stroke is drawn
                found = pieces.from_strokes(
                    strokes.strokes, strokes.width, strokes.height, strokes.brush
                )
            else:
                data = drawing if isinstance(drawing, bytes) else decode_data_url(drawing.image)
                found = pieces.from_image(DrawingDecoder(self.settings.decode_limits).image(data))
            model = self.server.current()
            temperature = Calibration.of(model.meta).temperature
            digits = segment(found, self._scores(model), limit, temperature)
        except TooManyDigitsError as e:
            details = {"found": e.found, "limit": e.limit}
            if e.found is None:  # refused before the digits were counted
                details["pieces"] = e.pieces
            raise ApiError(422, "too_many_digits", str(e), details) from None
        except ImageError as e:
            raise image_error(e) from None
        x = np.stack([d.pixels for d in digits])
        extents = np.array([d.extent for d in digits])
        too_small = too_small_in_number(extents, np.array([d.share for d in digits]))
        answers = self._answers(
            model,
            x,
            extents,
            include_input,
            np.stack([d.scores for d in digits]),
            too_small,
        )
        readings = [
            DigitReading(
                **answer.model_dump(exclude={"model"}),
                box=[round(float(v), 1) for v in digit.box],
            )
            for answer, digit in zip(answers, digits)
        ]
        number = "".join(str(r.digit) for r in readings if r.verdict != NOT_A_DIGIT)
        self.metrics.number_lengths.observe(len(number))
        return NumberReading(
            number=number,
            digits=readings,
            unsure=any(r.unsure for r in readings),
            model=answers[0].model,
        )

    @staticmethod
    def _scores(model: LoadedModel):
        """The model's scorer for model.segment: x (m, 784) → scores (m, k) before softmax."""
        return lambda x: model.network.layer_outputs(x, output="scores")[-1]

    def explain_one(self, drawing: Drawing) -> Explanation:
        """One drawing's prediction, with the network's layers, scores and evidence."""
        prepared = DrawingDecoder(self.settings.decode_limits).prepare(drawing)
        model = self.server.current()
        result = explain(model.network, prepared.pixels)
        return self.explanation(result, model, prepared.pixels, prepared.extent)

    def explanation(
        self, result: ExplainResult, model: LoadedModel, x: np.ndarray, extent: float = math.nan
    ) -> Explanation:
        """model.explain's result for x (784,) → the API's answer, rounded for the wire."""
        (prediction,) = self._answers(
            model, x[np.newaxis], np.array([extent]), True, result.scores[np.newaxis]
        )
        activation = model.network.activation.name
        return Explanation(
            **dict(prediction),
            layers=[
                LayerActivity(size=len(a), activation=activation, values=_rounded(a, 3))
                for a in result.layers
            ],
            scores=_rounded(result.scores, 4),
            temperature=Calibration.of(model.meta).temperature,
            evidence=Evidence(
                digit=result.digit,
                runner_up=result.runner_up,
                for_digit=_rounded(result.evidence.reshape(28, 28), EVIDENCE_DECIMALS),
                versus_runner_up=_rounded(result.contrast.reshape(28, 28), EVIDENCE_DECIMALS),
                bias_for_digit=round(result.bias_part, 4),
                bias_versus_runner_up=round(result.contrast_bias_part, 4),
                exact=result.exact,
            ),
        )

    def _answers(
        self,
        model: LoadedModel,
        x: np.ndarray,
        extents: np.ndarray,
        include_input: bool,
        scores: np.ndarray | None = None,
        too_small: np.ndarray | None = None,
    ) -> list[Prediction]:
        """x float32 (n, 784) and extents (n,) → n predictions, all from ``model``; ``scores``
        (n, k) when the forward pass has been made already; ``too_small`` (n,) to replace the
        extents' rule (the marks of a number)."""
        if scores is None:
            scores = model.network.layer_outputs(x, output="scores")[-1]
        calibration = Calibration.of(model.meta)
        threshold = self.settings.unsure_threshold
        readings = read(scores, extents, calibration, threshold, too_small)
        ranked = np.argsort(-readings.probabilities, axis=1, kind="stable")[:, :2]
        self.metrics.count_predictions(ranked[:, 0], readings.verdicts)
        rounded = np.round(readings.probabilities, PROBABILITY_DECIMALS)
        ref = ModelRef(version=model.version, created=str(model.meta.get("created", "")))
        answers = []
        for i, (best, next_) in enumerate(ranked):
            not_a_digit = readings.not_a_digit
            answers.append(
                Prediction(
                    digit=int(best),
                    confidence=float(rounded[i, best]),
                    probabilities=rounded[i].tolist(),
                    verdict=readings.verdicts[i],
                    unsure=readings.verdicts[i] == UNSURE,
                    runner_up=int(next_),
                    not_a_digit=None if not_a_digit is None else round(float(not_a_digit[i]), 6),
                    too_small=bool(readings.too_small[i]),
                    model=ref,
                    input=np.round(x[i].reshape(28, 28), PIXEL_DECIMALS).tolist()
                    if include_input
                    else None,
                )
            )
        return answers


def _rounded(values: np.ndarray, decimals: int) -> list:
    """An array as nested lists of floats rounded for the wire (-0.0 written as 0.0)."""
    return (np.round(values.astype(np.float64), decimals) + 0.0).tolist()
