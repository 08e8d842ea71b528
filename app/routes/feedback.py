"""``POST /api/feedback``: a person says what their drawing really was.

Public, and limited twice: per client (``DIGITS_FEEDBACK_RATE_LIMIT`` posts a minute), and, as
it decodes an image, by the same in-flight bound as a prediction. ``app.feedback.intake`` turns
the post into a stored sample; the admin side is ``app.routes.feedback_admin``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.deps import InFlightDep
from app.errors import ApiError
from app.feedback.intake import save_feedback
from app.feedback.store import MODEL_VERSION_MAX_LENGTH
from app.inputs import (
    ACCEPTED_CONTENT_TEXT,
    DrawingDecoder,
    is_json,
    media_type,
    parse_json,
    read_upload,
)
from app.ratelimit import client_key, too_many
from app.routes.drawing import RAW_IMAGE_CONTENT, drawing_errors
from app.schemas import (
    DrawingInput,
    ErrorResponse,
    FeedbackCreated,
    FeedbackInput,
    FeedbackLabels,
)

router = APIRouter(prefix="/api", tags=["feedback"])


def _labels(values: dict[str, Any], where: str) -> FeedbackLabels:
    """Form fields or query parameters → the labels ('' counts as absent)."""
    values = {k: v for k, v in values.items() if v not in ("", None)}
    try:
        return FeedbackLabels.model_validate(values)
    except ValidationError as e:
        errors = e.errors(include_url=False, include_input=False)
        raise RequestValidationError(
            [{**err, "loc": (where, *err["loc"])} for err in errors]
        ) from None


# label, predicted and model_version as the JSON body declares them, for the other two forms.
_LABEL_FIELDS = {
    name: {k: v for k, v in field.items() if k != "title"}
    for name, field in FeedbackLabels.model_json_schema()["properties"].items()
}
_FEEDBACK_BODY = {
    "parameters": [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": f"With raw image bytes{' (required)' if name == 'label' else ''}: "
            + field["description"][0].lower()
            + field["description"][1:],
            "schema": {k: v for k, v in field.items() if k != "description"},
        }
        for name, field in _LABEL_FIELDS.items()
    ],
    "requestBody": {
        "required": True,
        "description": "The drawing in any form `/api/predict` accepts, with `label` (and "
        "optionally `predicted` and `model_version`): JSON fields, multipart form fields next to "
        "`file`, or query parameters with raw image bytes.",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/FeedbackInput"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        **_LABEL_FIELDS,
                    },
                    "required": ["file", "label"],
                }
            },
            **RAW_IMAGE_CONTENT,
        },
    },
}


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackCreated,
    summary="Say what a drawing really is",
    responses={
        **drawing_errors(413),
        415: {"model": ErrorResponse, "description": "The Content-Type or format is refused."},
        422: {
            "model": ErrorResponse,
            "description": "The label is neither a digit 0-9 nor `not_a_digit`, `model_version` "
            f"is over {MODEL_VERSION_MAX_LENGTH} characters or holds a control character, or the "
            "drawing is blank or malformed.",
        },
        429: {"model": ErrorResponse, "description": "Too many posts from this client."},
        503: {
            "model": ErrorResponse,
            "description": "Too many drawings are being decoded or "
            "predicted (`overloaded`); `Retry-After` says when to try again.",
        },
    },
    openapi_extra=_FEEDBACK_BODY,
)
async def post_feedback(request: Request, in_flight: InFlightDep) -> FeedbackCreated:
    """Store a labelled drawing for training: its 28×28 (as the network sees it), the original
    image re-encoded as a bare PNG when it is small, the label, and the prediction it corrects.
    No address, user agent or image metadata is stored."""
    state = request.app.state
    # In the threadpool: with replicas on several hosts the count is kept in the database.
    wait = await run_in_threadpool(state.feedback_limiter.check, client_key(request))
    if wait is not None:
        limit = state.settings.feedback_rate_limit
        message = f"at most {limit} feedback posts a minute are accepted from one client"
        raise too_many("rate_limited", message, wait)
    drawing, labels = await _read_feedback(request)
    settings = state.settings
    with in_flight.slot():
        sample_id = await run_in_threadpool(
            save_feedback,
            state.feedback,
            DrawingDecoder(settings.decode_limits),
            drawing,
            labels,
            settings.feedback_max_original_bytes,
        )
    return FeedbackCreated(id=sample_id)


async def _read_feedback(request: Request) -> tuple[bytes | DrawingInput, FeedbackLabels]:
    """→ (the image bytes, or the JSON drawing; the labels)."""
    kind = media_type(request)
    if kind == "multipart/form-data":
        image, values = await read_upload(request, FeedbackLabels.model_fields)
        return image, _labels(values, "body")
    if kind.startswith("image/"):
        labels = _labels(dict(request.query_params), "query")
        return await request.body(), labels
    if is_json(kind):
        body = parse_json(await request.body(), FeedbackInput)
        return body, body
    raise ApiError(
        415,
        "unsupported_media_type",
        f"Content-Type {kind or '(none)'} is not accepted; send {ACCEPTED_CONTENT_TEXT}, with "
        f"'label' as a JSON field, a form field or a query parameter",
    )
