"""Every error code the API answers with, and when: the tables at the end of ``/docs``.

The shape is one for all, ``{"error": {"code": ..., "message": ...}}`` (``app.errors``); each
operation in the OpenAPI document declares which statuses it can answer. These tables say what
each code means, once, for people reading the docs page (``templates/docs.html``).
"""

from __future__ import annotations

from typing import NamedTuple

from model.decode import ACCEPTED_FORMATS_TEXT


class ErrorCode(NamedTuple):
    status: int
    codes: tuple[str, ...]
    when: str


DRAWING_ERRORS = (
    ErrorCode(413, ("body_too_large",), "the body is over the size limit"),
    ErrorCode(413, ("image_too_large",), "the image's header declares more pixels than the limit"),
    ErrorCode(
        415, ("unsupported_media_type",), "the Content-Type is not JSON, multipart or image/*"
    ),
    ErrorCode(
        415,
        ("unsupported_image_format",),
        f"the image (or data URL type) is not {ACCEPTED_FORMATS_TEXT}",
    ),
    ErrorCode(422, ("invalid_image",), "an accepted format, but truncated or corrupt"),
    ErrorCode(
        422,
        ("image_too_complex",),
        "more decoding work than a drawing needs (scans, chunks, CPU time)",
    ),
    ErrorCode(422, ("blank_image",), "there is no ink in the drawing"),
    ErrorCode(422, ("bad_pixels",), "pixels are not 784 or 28×28 finite numbers in [0, 1]"),
    ErrorCode(422, ("bad_data_url",), "image is not a base64 data URL"),
    ErrorCode(
        422,
        ("bad_strokes",),
        "/api/read: the strokes break a bound (count, points, coordinates, canvas, brush)",
    ),
    ErrorCode(
        422,
        ("too_many_digits",),
        "/api/read found more digits than DIGITS_READ_MAX_DIGITS (details.found, details.limit)",
    ),
    ErrorCode(
        422,
        ("empty_body", "invalid_json", "validation_error"),
        "the request is missing or malformed",
    ),
    ErrorCode(
        422,
        ("empty_batch", "batch_too_large"),
        "a batch has no items, or more than the limit (an item's error: details.index)",
    ),
    ErrorCode(
        413, ("batch_too_many_pixels",), "the images of a batch hold more pixels than its budget"
    ),
    ErrorCode(
        408, ("body_timeout",), "the body did not arrive in time (20 s, plus 1 s per 100 kB)"
    ),
    ErrorCode(
        400,
        ("body_incomplete",),
        "the client closed the connection before its body arrived (logged and counted as such)",
    ),
    ErrorCode(
        429,
        ("rate_limited",),
        "feedback: more posts a minute from this client than the limit (Retry-After)",
    ),
    ErrorCode(503, ("overloaded",), "too many drawings are being read; retry after Retry-After"),
    ErrorCode(503, ("model_unavailable",), "no model is loaded yet"),
    ErrorCode(
        503,
        ("database_unavailable",),
        "the shared database cannot be reached (several hosts only); retry",
    ),
    ErrorCode(
        503,
        ("lab_results_missing", "lab_results_invalid"),
        "/api/lab/results: the lab's results.json is missing or cannot be read (`digits lab`)",
    ),
    ErrorCode(404, ("not_found",), "no such address (a browser gets a small HTML page instead)"),
    ErrorCode(405, ("method_not_allowed",), "the address does not take this method (see Allow)"),
)

ADMIN_ERRORS = (
    ErrorCode(401, ("unauthorized", "invalid_token"), "the token is missing, or wrong"),
    ErrorCode(
        429,
        ("admin_rate_limited",),
        "too many wrong tokens from this client this minute (Retry-After)",
    ),
    ErrorCode(503, ("admin_disabled",), "the server has no admin token configured"),
    ErrorCode(
        415,
        ("unsupported_media_type",),
        "a retrain or relabel body that is not sent as application/json",
    ),
    ErrorCode(
        503,
        ("database_unavailable",),
        "the shared database cannot be reached (several hosts only); retry",
    ),
    ErrorCode(
        422, ("validation_error",), "a retrain field is out of its range (details name each field)"
    ),
    ErrorCode(409, ("job_running",), "a job is running already (details.job_id names it)"),
    ErrorCode(409, ("job_finished",), "cancelling a job that has ended"),
    ErrorCode(
        409,
        ("model_active", "model_corrupt"),
        "deleting the active version; activating a damaged file",
    ),
    ErrorCode(
        404,
        ("job_not_found", "model_not_found", "feedback_not_found"),
        "no such job, model or drawing",
    ),
    ErrorCode(
        422,
        ("invalid_import", "empty_body"),
        "the imported file is not a feedback export (.npz), or there is none",
    ),
    ErrorCode(
        503,
        ("mnist_unavailable",),
        "insights: MNIST is not in the data home yet (a retrain fetches it)",
    ),
)
