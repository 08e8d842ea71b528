"""The web app: ``create_app(settings)`` wires settings, the served model, routes and middleware.

Run it with ``uvicorn app.main:create_app --factory`` (or ``digits serve``).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from threadpoolctl import threadpool_limits

from app.config import Settings, get_settings
from app.errors import install_error_handlers
from app.examples import explanation_example, number_example
from app.feedback.store import FeedbackStore
from app.headers import SecurityHeaders
from app.insights import Insights
from app.jobs import JobManager
from app.limits import BodyLimits, InFlightLimit
from app.metrics import HttpMetrics, Metrics
from app.openapi import complete_openapi
from app.predictor import Predictor
from app.ratelimit import RateLimiter
from app.routes import (
    admin_jobs,
    admin_models,
    admin_page,
    docs,
    explain,
    feedback,
    feedback_admin,
    health,
    lab,
    model,
    pages,
    predict,
    read,
)
from app.routes import metrics as metrics_routes
from app.schemas import BatchRequest, DrawingInput, FeedbackInput, ReadInput
from app.serving import ModelServer
from model.registry import Registry

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

DESCRIPTION = """\
Draw a digit; a multilayer perceptron written in NumPy reads it.

`POST /api/predict` takes one drawing as JSON (a data URL, or MNIST-form pixels), as a
multipart upload, or as raw image bytes; `POST /api/predict/batch` takes many in one request.
`POST /api/read` reads a whole number (up to `DIGITS_READ_MAX_DIGITS` digits, 12 by default)
from an image in the same forms, or from JSON pen strokes.

Every error has the same JSON shape, `{"error": {"code": ..., "message": ...}}`:

| status | code | when |
|---|---|---|
| 413 | `body_too_large` | the body is over the size limit |
| 413 | `image_too_large` | the image's header declares more pixels than the limit |
| 415 | `unsupported_media_type` | the Content-Type is not JSON, multipart or `image/*` |
| 415 | `unsupported_image_format` | the image (or data URL type) is not PNG/JPEG/WebP/GIF/BMP |
| 422 | `invalid_image` | an accepted format, but truncated or corrupt |
| 422 | `image_too_complex` | more decoding work than a drawing needs (scans, chunks, CPU) |
| 422 | `blank_image` | there is no ink in the drawing |
| 422 | `bad_pixels` | pixels are not 784 or 28×28 finite numbers in [0, 1] |
| 422 | `bad_data_url` | `image` is not a base64 data URL |
| 422 | `empty_body`, `invalid_json`, `validation_error` | the request is missing or malformed |
| 422 | `empty_batch`, `batch_too_large` | a batch has no items, or more than the limit |
| 422 | `bad_strokes` | `/api/read`'s strokes break a bound (count, points, coordinates, canvas) |
| 422 | `too_many_digits` | `/api/read` found more digits than `DIGITS_READ_MAX_DIGITS` |
| 413 | `batch_too_many_pixels` | the images of a batch hold more pixels than its budget |
| 408 | `body_timeout` | the body did not arrive within the time limit (20 s plus 1 s per 100 kB) |
| 503 | `overloaded` | too many predictions are in progress; retry after `Retry-After` |
| 503 | `model_unavailable` | no model is loaded yet |

`POST /api/feedback` takes the same drawing forms plus `label` (0-9) and optionally `predicted`
and `model_version`; it answers 201 `{"id": ...}`, 422 for a label outside 0-9 or a blank
drawing, and 429 `rate_limited` (with `Retry-After`) past `DIGITS_FEEDBACK_RATE_LIMIT` posts a
minute from one client.

In a batch, an error in one item fails the request with 422, the item's code, and
`details.index`.

**Admin** (`/api/admin/*`) needs `Authorization: Bearer <token>` (`DIGITS_ADMIN_TOKEN`; without
it `digits serve` prints a random one at start-up). Its own errors:

| status | code | when |
|---|---|---|
| 401 | `unauthorized`, `invalid_token` | the token is missing, or wrong |
| 429 | `admin_rate_limited` | too many wrong tokens from this client this minute (`Retry-After`) |
| 503 | `admin_disabled` | the server has no admin token configured |
| 422 | `validation_error` | a retrain field is out of its range (the message says the range) |
| 409 | `job_running` | a job is running already (`details.job_id` names it) |
| 409 | `job_finished` | cancelling a job that has ended |
| 409 | `model_active`, `model_corrupt` | deleting the active version; activating a damaged file |
| 404 | `job_not_found`, `model_not_found`, `feedback_not_found` | no such job, model or sample |
| 422 | `invalid_import` | the imported file is not a feedback export (.npz with x, y) |
| 503 | `mnist_unavailable` | MNIST is not in the data home (`digits data fetch`) |
"""


def _version() -> str:
    try:
        return version("digits")
    except PackageNotFoundError:
        return "0+unknown"


@asynccontextmanager
async def lifespan(app: FastAPI):
    serving: ModelServer = app.state.serving
    jobs: JobManager = app.state.jobs
    # A feedback database that cannot be read stops start-up here (FeedbackStoreError says which
    # file and what to do) rather than being replaced by an empty one.
    await run_in_threadpool(app.state.feedback.open)
    # A job that was running when the server died can no longer finish (only a job whose
    # process still holds the lock is left alone).
    for job_id in await run_in_threadpool(
        jobs.store.reconcile, "interrupted", "the server restarted while this job was running"
    ):
        log.warning("job %s was interrupted by a server restart", job_id)
    # One BLAS thread: a one-row prediction is several times slower when OpenBLAS splits its
    # small matrix products over two cores, and concurrent requests use the cores anyway.
    with threadpool_limits(limits=1, user_api="blas"):
        await run_in_threadpool(serving.start)  # loading reads and checksums a file: off the loop
        watcher = asyncio.create_task(serving.watch(app.state.settings.model_poll_seconds))
        try:
            yield
        finally:
            await run_in_threadpool(jobs.shutdown)
            watcher.cancel()
            with suppress(asyncio.CancelledError):
                await watcher


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app with its own settings, model server and metrics (so tests can build many)."""
    settings = settings or get_settings()
    serving = ModelServer(Registry(settings.home))
    metrics = Metrics(serving)

    app = FastAPI(
        title="digits",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        # Both default doc pages load from a CDN; routes.docs serves Swagger UI locally.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.serving = serving
    app.state.metrics = metrics
    app.state.predictor = Predictor(serving, settings, metrics)
    app.state.jobs = JobManager(
        settings.home, settings.gate_tolerance_pp, settings.job_timeout_seconds
    )
    app.state.insights = Insights(settings.home)
    app.state.feedback = FeedbackStore(settings.home)
    app.state.feedback_limiter = RateLimiter(settings.feedback_rate_limit)
    app.state.admin_failures = RateLimiter(settings.admin_failure_limit)
    app.state.predictions_in_flight = InFlightLimit(
        settings.max_concurrent_predictions, metrics.refused.labels("overloaded")
    )

    install_error_handlers(app)
    routers = (
        *(pages, admin_page, predict, explain, read, feedback, model),
        *(admin_jobs, admin_models, feedback_admin, health, metrics_routes, docs),
        lab,
    )
    for routes in routers:
        app.include_router(routes.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    complete_openapi(
        app,
        DrawingInput,
        BatchRequest,
        FeedbackInput,
        ReadInput,
        response_examples={
            "/api/explain": lambda: explanation_example(app.state.predictor),
            "/api/read": lambda: number_example(app.state.predictor),
        },
    )

    # The last added runs first: headers go on every response, metrics see every request,
    # and the body limits apply before any route reads a body.
    app.add_middleware(
        BodyLimits,
        default_limit=settings.max_body_bytes,
        timeout=settings.body_timeout_seconds,
        limits={
            "/api/predict/batch": settings.max_batch_body_bytes,
            "/api/admin/feedback/import": settings.max_import_bytes,
        },
    )
    app.add_middleware(HttpMetrics, metrics=metrics)
    app.add_middleware(SecurityHeaders)
    return app
