"""Feedback: people say what their drawing really was; an admin reviews, exports and imports.

``POST /api/feedback`` is public and rate-limited per client. ``/api/admin/feedback*`` needs the
admin token. The store itself is ``app.feedback``.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from app.config import Settings
from app.errors import ApiError
from app.feedback import FeedbackStore, Sample
from app.inputs import (
    ACCEPTED_CONTENT_TEXT,
    decode_data_url,
    image_to_vector,
    media_type,
    parse_json,
    read_upload,
    to_vector,
)
from app.ratelimit import client_key, too_many
from app.routes.admin import ADMIN_ERRORS
from app.schemas import (
    Digit,
    ErrorResponse,
    FeedbackCounts,
    FeedbackCreated,
    FeedbackImported,
    FeedbackInput,
    FeedbackItem,
    FeedbackPage,
    Relabel,
)
from app.security import require_admin
from model.preprocess import decode_image, sniff_format

router = APIRouter(prefix="/api", tags=["feedback"])
admin_router = APIRouter(
    prefix="/api/admin/feedback",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ADMIN_ERRORS,
)

# An export of this many samples is far more than any store holds; it bounds what an import may
# make the server decompress (x is 784 bytes a sample).
MAX_IMPORT_SAMPLES = 500_000


def _store(request: Request) -> FeedbackStore:
    return request.app.state.feedback


StoreDep = Annotated[FeedbackStore, Depends(_store)]


# ---- POST /api/feedback -------------------------------------------------------------------------


class _Fields(BaseModel):
    """The label fields when the image comes as multipart or raw bytes."""

    model_config = ConfigDict(extra="ignore")

    label: Digit
    predicted: Digit | None = None
    model_version: str | None = Field(None, max_length=200)


def _fields(values: dict[str, Any], where: str) -> _Fields:
    values = {k: v for k, v in values.items() if v not in ("", None)}
    try:
        return _Fields.model_validate(values)
    except ValidationError as e:
        errors = e.errors(include_url=False, include_input=False)
        raise RequestValidationError(
            [{**err, "loc": (where, *err["loc"])} for err in errors]
        ) from None


_FEEDBACK_BODY = {
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
                        "label": {"type": "integer", "minimum": 0, "maximum": 9},
                        "predicted": {"type": "integer", "minimum": 0, "maximum": 9},
                        "model_version": {"type": "string"},
                    },
                    "required": ["file", "label"],
                }
            },
            "image/png": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackCreated,
    summary="Say what a drawing really is",
    responses={
        413: {"model": ErrorResponse, "description": "The body is over the size limit."},
        415: {"model": ErrorResponse, "description": "The Content-Type or format is refused."},
        422: {"model": ErrorResponse, "description": "The label is not 0-9, or the drawing is "
              "blank or malformed."},
        429: {"model": ErrorResponse, "description": "Too many posts from this client."},
    },
    openapi_extra=_FEEDBACK_BODY,
)  # fmt: skip
async def post_feedback(request: Request) -> FeedbackCreated:
    """Store a labelled drawing for training: its 28×28 (as the network sees it), the original
    image as PNG when it is small, the label, and the prediction it corrects. No address or
    user agent is stored."""
    state = request.app.state
    wait = state.feedback_limiter.check(client_key(request))
    if wait is not None:
        limit = state.settings.feedback_rate_limit
        message = f"at most {limit} feedback posts a minute are accepted from one client"
        raise too_many("rate_limited", message, wait)
    image, drawing, fields = await _read_feedback(request)
    sample_id = await run_in_threadpool(
        _save, state.feedback, state.settings, image, drawing, fields
    )
    return FeedbackCreated(id=sample_id)


async def _read_feedback(request: Request):
    """→ (image bytes or None, JSON drawing or None, the label fields)."""
    kind = media_type(request)
    if kind == "multipart/form-data":
        image, values = await read_upload(request, _Fields.model_fields)
        return image, None, _fields(values, "body")
    if kind.startswith("image/"):
        fields = _fields(dict(request.query_params), "query")
        return await request.body(), None, fields
    if kind == "application/json" or kind.endswith("+json"):
        body = parse_json(await request.body(), FeedbackInput)
        fields = _Fields(
            label=body.label, predicted=body.predicted, model_version=body.model_version
        )
        return None, body, fields
    raise ApiError(
        415,
        "unsupported_media_type",
        f"Content-Type {kind or '(none)'} is not accepted; send {ACCEPTED_CONTENT_TEXT}, with "
        f"'label' as a JSON field, a form field or a query parameter",
    )


def _save(
    store: FeedbackStore,
    settings: Settings,
    image: bytes | None,
    body: FeedbackInput | None,
    fields: _Fields,
) -> int:
    if body is not None and body.image is not None:
        image = decode_data_url(body.image)
    if image is not None:
        vector = image_to_vector(image, settings.max_image_pixels)
        original = _as_png(image, settings.max_image_pixels, settings.feedback_max_original_bytes)
    else:
        vector = to_vector(body.drawing(), settings.max_image_pixels)
        original = None
    pixels = np.round(vector * 255).astype(np.uint8).reshape(28, 28)
    return store.add(pixels, fields.label, fields.predicted, fields.model_version, original)


def _as_png(data: bytes, max_pixels: int, limit: int) -> bytes | None:
    """The image as PNG bytes if they fit in ``limit``, else None (it was decoded once already)."""
    if sniff_format(data) == "PNG":
        return data if len(data) <= limit else None
    if len(data) > limit * 4:
        return None
    buffer = io.BytesIO()
    decode_image(data, max_pixels).save(buffer, "PNG", optimize=True)
    return buffer.getvalue() if buffer.tell() <= limit else None


# ---- admin --------------------------------------------------------------------------------------


def _item(sample: Sample) -> FeedbackItem:
    return FeedbackItem(
        id=sample.id,
        created=sample.created,
        label=sample.label,
        predicted=sample.predicted,
        model_version=sample.model_version,
        wrong=sample.wrong,
        has_original=sample.has_original,
        thumbnail=sample.thumbnail(),
    )


def _digit_query(value: str | None, name: str) -> int | None:
    """'' (an empty filter) means none; otherwise a digit 0-9, or 422."""
    if value is None or value.strip() == "":
        return None
    if value.strip().isdigit() and 0 <= int(value) <= 9:
        return int(value)
    raise ApiError(422, "validation_error", f"query.{name}: must be a digit 0 to 9 or empty")


# SQLite keeps ids as signed 64-bit integers: a number outside that range is no sample's id (and
# cannot even be put in a query). A page past MAX_PAGE would make an OFFSET outside it.
_MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000


def _storable(sample_id: int) -> bool:
    return -_MAX_ID - 1 <= sample_id <= _MAX_ID


def _not_found(sample_id: int) -> ApiError:
    return ApiError(
        404, "feedback_not_found", f"there is no feedback sample {sample_id}; list them at "
        "GET /api/admin/feedback"
    )  # fmt: skip


@admin_router.get("", response_model=FeedbackPage, summary="Feedback samples, newest first")
def list_feedback(
    store: StoreDep,
    label: Annotated[str | None, Query(description="Only this label (0-9).")] = None,
    predicted: Annotated[str | None, Query(description="Only this prediction (0-9).")] = None,
    wrong_only: Annotated[bool, Query(description="Only samples the model got wrong.")] = False,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 48,
) -> FeedbackPage:
    """One page of samples with thumbnails (the 28×28 as a data URL), and counts per digit."""
    samples, total = store.list_samples(
        _digit_query(label, "label"), _digit_query(predicted, "predicted"), wrong_only, page,
        per_page,
    )  # fmt: skip
    return FeedbackPage(
        items=[_item(s) for s in samples],
        page=page,
        per_page=per_page,
        total=total,
        pages=max(1, -(-total // per_page)),
        counts=FeedbackCounts(**store.counts()),
    )


@admin_router.get(
    "/export",
    summary="Download every sample as .npz",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def export_feedback(store: StoreDep) -> Response:
    """An `.npz` with `x` uint8 (n, 28, 28) and `y` uint8 (n,), plus `predicted` (-1 = none),
    `model_version` and `created`. `POST /api/admin/feedback/import` reads it back."""
    arrays = store.arrays()
    arrays.pop("id")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    name = f"digits-feedback-{datetime.now(UTC):%Y%m%d-%H%M%S}.npz"
    return Response(
        buffer.getvalue(),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "X-Sample-Count": str(len(arrays["y"]))},
    )  # fmt: skip


@admin_router.post(
    "/import",
    response_model=FeedbackImported,
    summary="Load an exported .npz back (idempotent)",
    responses={
        422: {
            "model": ErrorResponse,
            "description": "Not a feedback export (`invalid_import`), or no file in the form.",
        }
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"file": {
                        "type": "string", "format": "binary"}}, "required": ["file"]}
                },
            },
        }
    },
)  # fmt: skip
async def import_feedback(request: Request, store: StoreDep) -> FeedbackImported:
    """Send the file as the raw body or as `file` in a form. Samples already stored (the same
    28×28 with the same label) are skipped, so importing a file twice adds nothing."""
    if media_type(request) == "multipart/form-data":
        data, _ = await read_upload(request)
    else:
        data = await request.body()
    arrays = await run_in_threadpool(read_export, data)
    added, skipped = await run_in_threadpool(store.import_arrays, **arrays)
    total = await run_in_threadpool(store.count)
    return FeedbackImported(added=added, skipped=skipped, total=total)


def read_export(data: bytes) -> dict[str, np.ndarray]:
    """An export's bytes → arrays for FeedbackStore.import_arrays. Raises ApiError 422."""

    def bad(reason: str) -> ApiError:
        return ApiError(
            422,
            "invalid_import",
            f"not a feedback export: {reason}; send the .npz that GET /api/admin/feedback/export "
            "makes (x uint8 (n, 28, 28), y (n,) digits 0-9)",
        )

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
    except (zipfile.BadZipFile, ValueError):
        raise bad("the body is not an .npz file") from None
    if sum(sizes.values()) > MAX_IMPORT_SAMPLES * 1000:
        raise bad(f"it holds more than {MAX_IMPORT_SAMPLES} samples")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            if "x" not in npz.files or "y" not in npz.files:
                raise bad("it has no 'x' and 'y' arrays")
            arrays = {k: npz[k] for k in ("x", "y", "predicted", "model_version", "created")
                      if k in npz.files}  # fmt: skip
    except ApiError:
        raise
    except Exception as e:  # a damaged member, an object array, …
        raise bad(f"it could not be read ({type(e).__name__})") from None
    x, y = arrays["x"], arrays["y"]
    if x.dtype != np.uint8 or x.ndim not in (2, 3) or x.shape[1:] not in ((28, 28), (784,)):
        raise bad(f"x is {x.dtype} {x.shape}, not uint8 (n, 28, 28)")
    if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iu":
        raise bad(f"y is {y.dtype} {y.shape}, not {len(x)} integers")
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise bad("y holds values outside 0-9")
    for key in ("predicted", "model_version", "created"):
        if key in arrays and arrays[key].shape != y.shape:
            del arrays[key]  # optional columns that do not line up are ignored
    if "predicted" in arrays and arrays["predicted"].dtype.kind not in "iu":
        del arrays["predicted"]
    arrays["x"] = x.reshape(len(x), 28, 28)
    return arrays


@admin_router.patch(
    "/{sample_id}",
    response_model=FeedbackItem,
    summary="Relabel a sample",
    responses={404: {"model": ErrorResponse}},
)
def relabel_feedback(sample_id: int, body: Relabel, store: StoreDep) -> FeedbackItem:
    sample = store.relabel(sample_id, body.label) if _storable(sample_id) else None
    if sample is None:
        raise _not_found(sample_id)
    return _item(sample)


@admin_router.delete(
    "/{sample_id}",
    status_code=204,
    summary="Delete a sample",
    responses={404: {"model": ErrorResponse}},
)
def delete_feedback(sample_id: int, store: StoreDep) -> Response:
    if not (_storable(sample_id) and store.delete(sample_id)):
        raise _not_found(sample_id)
    return Response(status_code=204)
