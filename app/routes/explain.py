"""``POST /api/explain``: a prediction, and how the network arrived at it.

It takes every form ``/api/predict`` takes, with the same errors and limits, and answers the
same prediction plus each hidden layer's activations, the ten scores before softmax, and the
evidence map of the top digit (alone, and against the runner-up). ``model.explain`` computes it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.deps import InFlightDep, PredictorDep
from app.routes.drawing import DRAWING_BODY, answer_drawing, drawing_errors
from app.schemas import Explanation

router = APIRouter(prefix="/api", tags=["predict"])


@router.post(
    "/explain",
    response_model=Explanation,
    summary="Recognise one drawn digit and show how",
    responses=drawing_errors(413, 415, 422, 503),
    openapi_extra=DRAWING_BODY,
)
async def explain(request: Request, predictor: PredictorDep, in_flight: InFlightDep) -> Explanation:
    """The drawing in any form `/api/predict` takes. The answer is the prediction (with `input`,
    the 28×28 the network saw) plus, for each hidden layer, its size, activation and every unit's
    value; `scores`, the output layer's z = W·a + b before softmax; and `evidence`: per pixel,
    ink × ∂z/∂ink for the top digit's score (`for_digit`) and for its lead over the runner-up
    (`versus_runner_up`). For a ReLU network the map plus the bias part adds up to the score."""
    return await answer_drawing(request, in_flight, predictor.explain_one)
