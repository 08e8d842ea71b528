"""Drawings in, predictions (and explanations) out: preprocess, one forward pass, shape the answer.

CPU-bound throughout, so routes call it from the threadpool, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.config import Settings
from app.errors import ApiError
from app.inputs import Drawing, DrawingDecoder
from app.metrics import Metrics
from app.schemas import Evidence, Explanation, LayerActivity, ModelRef, Prediction
from app.serving import ModelServer
from model.explain import Explanation as ExplainResult
from model.explain import explain
from model.modelfile import LoadedModel

PROBABILITY_DECIMALS = 6  # the ten still sum to 1 within 1e-5
PIXEL_DECIMALS = 4  # finer than the 1/255 steps of an 8-bit image
# A pixel's evidence is a small share of a score of about 10: 4 decimals keep the map's sum
# within 0.04 of the exact one, and the shipped model's explanation under 40 kB.
EVIDENCE_DECIMALS = 4


class Predictor:
    """Turns drawings into predictions with the served model, counting each predicted digit."""

    def __init__(self, server: ModelServer, settings: Settings, metrics: Metrics):
        self.server = server
        self.settings = settings
        self.metrics = metrics

    def predict_one(self, drawing: Drawing, include_input: bool = False) -> Prediction:
        x = DrawingDecoder(self.settings.decode_limits).vector(drawing)[np.newaxis]
        return self._predict(x, include_input)[0]

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
        return self._predict(decoder.matrix(drawings), include_input)

    def explain_one(self, drawing: Drawing) -> Explanation:
        """One drawing's prediction, with the network's layers, scores and evidence."""
        x = DrawingDecoder(self.settings.decode_limits).vector(drawing)
        model = self.server.current()
        result = explain(model.network, x)
        self.metrics.count_predictions([result.digit])
        return self.explanation(result, model, x)

    def explanation(self, result: ExplainResult, model: LoadedModel, x: np.ndarray) -> Explanation:
        """model.explain's result for x (784,) → the API's answer, rounded for the wire."""
        p = np.round(result.probabilities.astype(np.float64), PROBABILITY_DECIMALS)
        prediction = self._prediction(p, result.digit, result.runner_up, model, x)
        activation = model.network.activation.name
        return Explanation(
            **dict(prediction),
            layers=[
                LayerActivity(size=len(a), activation=activation, values=_rounded(a, 3))
                for a in result.layers
            ],
            scores=_rounded(result.scores, 4),
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

    def _predict(self, x: np.ndarray, include_input: bool) -> list[Prediction]:
        """x float32 (n, 784) → n predictions, all from the same model."""
        probabilities, model = self.server.predict(x)
        ranked = np.argsort(-probabilities, axis=1, kind="stable")[:, :2]  # (n, 2): best, next
        self.metrics.count_predictions(ranked[:, 0])
        rounded = np.round(probabilities.astype(np.float64), PROBABILITY_DECIMALS)
        return [
            self._prediction(p, best, next_, model, x[i] if include_input else None)
            for i, (p, (best, next_)) in enumerate(zip(rounded, ranked, strict=True))
        ]

    def _prediction(
        self, p: np.ndarray, best: int, next_: int, model: LoadedModel, x: np.ndarray | None
    ) -> Prediction:
        """p (10,) rounded probabilities; x (784,) the input, when it is to be echoed."""
        confidence = float(p[best])
        return Prediction(
            digit=int(best),
            confidence=confidence,
            probabilities=p.tolist(),
            unsure=confidence < self.settings.unsure_threshold,
            runner_up=int(next_),
            model=ModelRef(version=model.version, created=str(model.meta.get("created", ""))),
            input=None if x is None else np.round(x.reshape(28, 28), PIXEL_DECIMALS).tolist(),
        )


def _rounded(values: np.ndarray, decimals: int) -> list:
    """An array as nested lists of floats rounded for the wire (-0.0 written as 0.0)."""
    return (np.round(values.astype(np.float64), decimals) + 0.0).tolist()
