"""Prediction endpoints: one drawing in any accepted form, or a batch in one forward pass."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.deps import InFlightDep, PredictorDep
from app.examples import BATCH_EXAMPLE
from app.inputs import parse_json, read_json_body
from app.predictor import Predictor
from app.routes.drawing import DRAWING_BODY, IncludeInput, answer_drawing, drawing_errors
from app.schemas import BatchRequest, BatchResponse, Prediction

router = APIRouter(prefix="/api", tags=["predict"])


@router.post(
    "/predict",
    response_model=Prediction,
    response_model_exclude_none=True,
    summary="Recognise one drawn digit",
    responses=drawing_errors(413, 415, 422, 503),
    openapi_extra=DRAWING_BODY,
)
async def predict(
    request: Request,
    predictor: PredictorDep,
    in_flight: InFlightDep,
    include_input: IncludeInput = False,
) -> Prediction:
    """Send one drawing as JSON (a data URL or MNIST-form pixels), as a multipart upload in
    the field `file`, or as raw image bytes with an `image/*` Content-Type.

    An image is brought to MNIST form first: ink found whatever its colours, cropped, scaled to
    fit 20×20, and centred by mass in 28×28. Pixels are used as they are.
    """
    return await answer_drawing(
        request, in_flight, lambda drawing: predictor.predict_one(drawing, include_input)
    )


_BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/BatchRequest"},
                "example": BATCH_EXAMPLE,
            }
        },
    }
}


@router.post(
    "/predict/batch",
    response_model=BatchResponse,
    response_model_exclude_none=True,
    summary="Recognise many drawings in one forward pass",
    responses=drawing_errors(413, 415, 422, 503),
    openapi_extra=_BATCH_BODY,
)
async def predict_batch(
    request: Request,
    predictor: PredictorDep,
    in_flight: InFlightDep,
    include_input: IncludeInput = False,
) -> BatchResponse:
    """Each item is a JSON drawing as for `/api/predict` (`pixels` or `image`). Predictions come
    back in the items' order. If any item is bad, the whole request fails with the error that
    item would get from `/api/predict` (its status and `error.code`), and `details.index` names
    the item; an item that does not match the schema is a 422 `validation_error` whose
    `details[].loc` gives its place (`["body", "items", 1]`).
    """
    # A full batch is megabytes of JSON: parse it in the threadpool, not on the event loop, in
    # the same trip as the prediction.
    body = await read_json_body(request)
    with in_flight.slot():
        return await run_in_threadpool(_parse_and_predict_batch, predictor, body, include_input)


def _parse_and_predict_batch(
    predictor: Predictor, body: bytes, include_input: bool
) -> BatchResponse:
    """JSON bytes of a BatchRequest → BatchResponse (raises RequestValidationError, ApiError)."""
    batch = parse_json(body, BatchRequest)
    return BatchResponse(predictions=predictor.predict_batch(batch.items, include_input))
