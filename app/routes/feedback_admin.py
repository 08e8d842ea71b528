"""The admin side of feedback: list, relabel, delete (and undo it), export and import the stored
drawings.

Every route needs the admin token (``app.security``). The store is ``app.feedback.store``; the
``.npz`` format of export and import is ``app.feedback.export``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.errors import ApiError
from app.feedback.export import bare_originals, read_export, write_export
from app.feedback.store import PAGE_SIZE_MAX, FeedbackStore, Sample
from app.feedback.trash import UNDO_WINDOW
from app.inputs import json_if_any_body, media_type, read_upload
from app.schemas import (
    ErrorResponse,
    FeedbackCounts,
    FeedbackImported,
    FeedbackItem,
    FeedbackPage,
    Relabel,
)
from app.schemas.feedback import api_label, stored_label
from app.security import ADMIN_ERRORS, require_admin

router = APIRouter(
    prefix="/api/admin/feedback",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ADMIN_ERRORS,
)


def _store(request: Request) -> FeedbackStore:
    return request.app.state.feedback


StoreDep = Annotated[FeedbackStore, Depends(_store)]


def _item(sample: Sample) -> FeedbackItem:
    return FeedbackItem(
        id=sample.id,
        created=sample.created,
        label=api_label(sample.label),
        predicted=sample.predicted,
        model_version=sample.model_version,
        wrong=sample.wrong,
        has_original=sample.has_original,
        thumbnail=sample.thumbnail(),
    )


_DIGITS = frozenset("0123456789")


def _label_query(value: str | None) -> int | None:
    """'' means no filter; 'not_a_digit' or a digit 0-9, or 422."""
    if value is not None and value.strip() == "not_a_digit":
        return stored_label("not_a_digit")
    return _digit_query(value, "label", "a digit 0 to 9, 'not_a_digit' or empty")


def _digit_query(
    value: str | None, name: str, accepted: str = "a digit 0 to 9 or empty"
) -> int | None:
    """'' (an empty filter) means none; otherwise a digit 0-9, or 422 saying ``accepted``."""
    if value is None or value.strip() == "":
        return None
    if value.strip() in _DIGITS:  # not str.isdigit(): it accepts '²' and '①', which int() refuses
        return int(value)
    raise ApiError(422, "validation_error", f"query.{name}: must be {accepted}")


# SQLite keeps ids as signed 64-bit integers: a number outside that range is no sample's id (and
# cannot even be put in a query). A page past MAX_PAGE would make an OFFSET outside it.
_MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000


def _storable(sample_id: int) -> bool:
    return -_MAX_ID - 1 <= sample_id <= _MAX_ID


def _not_found(sample_id: int) -> ApiError:
    return ApiError(
        404,
        "feedback_not_found",
        f"there is no feedback sample {sample_id}; list them at GET /api/admin/feedback",
    )


@router.get("", response_model=FeedbackPage, summary="Feedback samples, newest first")
def list_feedback(
    store: StoreDep,
    label: Annotated[
        str | None, Query(description="Only this label (0-9, or `not_a_digit`).")
    ] = None,
    predicted: Annotated[str | None, Query(description="Only this prediction (0-9).")] = None,
    wrong_only: Annotated[bool, Query(description="Only samples the model got wrong.")] = False,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    per_page: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 48,
) -> FeedbackPage:
    """One page of samples with thumbnails (the 28×28 as a data URL), and counts per digit."""
    samples, total = store.list_samples(
        _label_query(label),
        _digit_query(predicted, "predicted"),
        wrong_only,
        page,
        per_page,
    )
    return FeedbackPage(
        items=[_item(s) for s in samples],
        page=page,
        per_page=per_page,
        total=total,
        pages=max(1, -(-total // per_page)),
        counts=FeedbackCounts(**store.counts()),
    )


@router.get(
    "/export",
    summary="Download every sample as .npz",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def export_feedback(store: StoreDep) -> StreamingResponse:
    """An `.npz` with `x` uint8 (n, 28, 28) and `y` uint8 (n,), plus `predicted` (-1 = none),
    `model_version`, `created`, and the original images: `original` (their PNG bytes one after
    another) and `original_length` (each one's bytes, 0 for none). `POST
    /api/admin/feedback/import` reads it back."""
    # Written to a temporary file first (the rows stream out of the store, so memory stays
    # flat), then sent from it; the file goes when the response ends.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _chunks once sent)
    try:
        count = await run_in_threadpool(write_export, store, spool)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    name = f"digits-feedback-{datetime.now(UTC):%Y%m%d-%H%M%S}.npz"
    return StreamingResponse(
        _chunks(spool),
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(size),
            "X-Sample-Count": str(count),
        },
    )


def _chunks(spool: BinaryIO, size: int = 1 << 20) -> Iterator[bytes]:
    """The file in 1 MB pieces, closed (and so deleted) when done or abandoned."""
    with spool:
        while chunk := spool.read(size):
            yield chunk


@router.post(
    "/import",
    response_model=FeedbackImported,
    summary="Load an exported .npz back (idempotent)",
    responses={
        422: {
            "model": ErrorResponse,
            "description": "Not a feedback export (`invalid_import`), an empty body "
            "(`empty_body`), or no file in the form.",
        }
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def import_feedback(request: Request, store: StoreDep) -> FeedbackImported:
    """Send the file as the raw body or as `file` in a form. Samples already stored (the same
    28×28 with the same label) are skipped, so importing a file twice adds nothing. Original
    images are held to a post's limits and kept as a post's are (a bare PNG, when small)."""
    if media_type(request) == "multipart/form-data":
        data, _ = await read_upload(request)
    else:
        data = await request.body()
    if not data:
        raise ApiError(
            422,
            "empty_body",
            "the body is empty; send the .npz that GET /api/admin/feedback/export makes, as the "
            "body or as `file` in a form",
        )
    arrays = await run_in_threadpool(read_export, data)
    settings = request.app.state.settings
    limit = settings.feedback_max_original_bytes
    originals = await run_in_threadpool(bare_originals, arrays, settings.decode_limits, limit)
    added, skipped = await run_in_threadpool(store.import_arrays, **arrays, original=originals)
    total = await run_in_threadpool(store.count)
    return FeedbackImported(added=added, skipped=skipped, total=total)


@router.patch(
    "/{sample_id}",
    response_model=FeedbackItem,
    summary="Relabel a sample",
    responses={404: {"model": ErrorResponse}, 415: {"model": ErrorResponse}},
    dependencies=[Depends(json_if_any_body)],
)
def relabel_feedback(sample_id: int, body: Relabel, store: StoreDep) -> FeedbackItem:
    sample = store.relabel(sample_id, stored_label(body.label)) if _storable(sample_id) else None
    if sample is None:
        raise _not_found(sample_id)
    return _item(sample)


_UNDO_MINUTES = round(UNDO_WINDOW.total_seconds() / 60)


@router.delete(
    "/{sample_id}",
    status_code=204,
    summary="Delete a sample",
    description="The drawing is gone from the lists, counts, exports and training at once. For "
    f"{_UNDO_MINUTES} minutes `POST /api/admin/feedback/{{id}}/restore` brings it back; after "
    "that it cannot be, and it is removed for good at the next change to the drawings.",
    responses={404: {"model": ErrorResponse}},
)
def delete_feedback(sample_id: int, store: StoreDep) -> Response:
    if not (_storable(sample_id) and store.delete(sample_id)):
        raise _not_found(sample_id)
    return Response(status_code=204)


@router.post(
    "/{sample_id}/restore",
    response_model=FeedbackItem,
    summary="Undo a delete",
    description=f"Puts back a drawing deleted in the last {_UNDO_MINUTES} minutes, as it was "
    "(its original image too) and under its own id. A drawing an import has stored again "
    "meanwhile is back already, and cannot be restored a second time (404).",
    responses={404: {"model": ErrorResponse}},
)
def restore_feedback(sample_id: int, store: StoreDep) -> FeedbackItem:
    sample = store.restore(sample_id) if _storable(sample_id) else None
    if sample is None:
        raise ApiError(
            404,
            "feedback_not_found",
            f"there is no deleted feedback sample {sample_id} to restore; a delete can be "
            f"undone for {_UNDO_MINUTES} minutes",
        )
    return _item(sample)
