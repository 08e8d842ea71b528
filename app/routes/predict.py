"""Prediction endpoints: one drawing in any accepted form, or a batch in one forward pass."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from app.deps import InFlightDep, PredictorDep
from app.examples import BATCH_EXAMPLE, PREDICT_JSON_EXAMPLES
from app.inputs import parse_json, read_drawing, read_json_body
from app.predictor import Predictor
from app.schemas import BatchRequest, BatchResponse, DrawingInput, ErrorResponse, Prediction

router = APIRouter(prefix="/api", tags=["predict"])

IncludeInput = Annotated[
    bool, Query(description="Also return `input`: the 28×28 image the network saw.")
]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    reasons = {
        413: "The body, or the image's declared size, is over the limit.",
        415: "The Content-Type, or the image format, is not accepted.",
        422: "The drawing is malformed, blank, or out of range; `error.code` says which.",
        503: "No model is loaded yet (`model_unavailable`), or too many predictions are in "
        "flight (`overloaded`); `Retry-After` says when to try again.",
    }
    return {s: {"model": ErrorResponse, "description": reasons[s]} for s in statuses}


_BINARY = {"schema": {"type": "string", "format": "binary"}}
_PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "description": "One drawing, in any of these forms.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/DrawingInput"},
                "examples": PREDICT_JSON_EXAMPLES,
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "A PNG, JPEG, WebP, GIF or BMP image of one digit.",
                        }
                    },
                    "required": ["file"],
                }
            },
            **{f"image/{kind}": _BINARY for kind in ("png", "jpeg", "webp", "gif", "bmp")},
        },
    }
}


@router.post(
    "/predict",
    response_model=Prediction,
    response_model_exclude_none=True,
    summary="Recognise one drawn digit",
    responses=_errors(413, 415, 422, 503),
    openapi_extra=_PREDICT_BODY,
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
    # Reading the body is I/O and stays on the event loop. Ready-made pixels cost ~0.2 ms to
    # predict, less than a round trip to the threadpool costs the event loop, so they are done
    # here; an image (decoding, finding the ink, scaling: milliseconds) goes to the threadpool.
    drawing = await read_drawing(request)
    with in_flight.slot():
        if isinstance(drawing, DrawingInput) and drawing.pixels is not None:
            return predictor.predict_one(drawing, include_input)
        return await run_in_threadpool(predictor.predict_one, drawing, include_input)


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
    responses=_errors(413, 415, 422, 503),
    openapi_extra=_BATCH_BODY,
)
async def predict_batch(
    request: Request,
    predictor: PredictorDep,
    in_flight: InFlightDep,
    include_input: IncludeInput = False,
) -> BatchResponse:
    """Each item is a JSON drawing as for `/api/predict` (`pixels` or `image`). Predictions come
    back in the items' order. If any item is bad, the whole request fails with 422 and the
    error's `details.index` names the item.
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
