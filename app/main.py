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
from app.head import HeadAsGet
from app.headers import SecurityHeaders
from app.insights import Insights
from app.jobs import JobManager
from app.limits import BodyLimits, InFlightLimit
from app.metrics import HttpMetrics, Metrics
from app.openapi import complete_openapi
from app.predictor import Predictor
from app.routes import (
    admin_jobs,
    admin_models,
    admin_page,
    docs,
    example_digits,
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
from app.stopping import Stopping
from app.stores import Stores, open_stores

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

DESCRIPTION = """\
Draw a digit; a multilayer perceptron written in NumPy reads it. Back to
[the drawing page](/); the [error codes](#errors) follow the endpoints.

`POST /api/predict` takes one drawing as JSON (a data URL, or MNIST-form pixels), as a
multipart upload, or as raw image bytes; `POST /api/predict/batch` takes many in one request.
`POST /api/read` reads a whole number (up to `DIGITS_READ_MAX_DIGITS` digits, 12 by default)
from an image in the same forms, or from JSON pen strokes.
`POST /api/feedback` takes the same drawing forms plus `label` (0-9, or `not_a_digit`) and
optionally `predicted` and `model_version`.

Every error has one JSON shape, `{"error": {"code": ..., "message": ...}}`: the message says
what was wrong and what is accepted, the code is stable. Each endpoint lists the statuses it
can answer; what each code means is in the table after the endpoints.

**Admin** (`/api/admin/*`) needs the admin token as `Authorization: Bearer <token>`: press
**Authorize** and paste it (`DIGITS_ADMIN_TOKEN`; without it, `digits serve` prints a random one
at start-up).
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
    stores: Stores = app.state.stores
    app.state.stopping.install()  # after the server's own signal handlers, which it chains to
    # A feedback database that cannot be read stops start-up here (FeedbackStoreError says which
    # file and what to do) rather than being replaced by an empty one; a shared database gets
    # its migrations, under a lock that replicas starting together queue on.
    await run_in_threadpool(stores.open)
    # A job that was running when the server died can no longer finish (only a job whose
    # process still holds the lock, or with a shared database its lease, is left alone).
    restarted = None if stores.shared else "the server restarted while this job was running"
    for job_id in await run_in_threadpool(jobs.store.reconcile, "interrupted", restarted):
        log.warning("job %s was marked interrupted at start-up", job_id)
    if await run_in_threadpool(stores.share_mnist):
        log.warning("shared this data home's MNIST through the database, for jobs on any host")
    # One BLAS thread: a one-row prediction is several times slower when OpenBLAS splits its
    # small matrix products over two cores, and concurrent requests use the cores anyway.
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            await run_in_threadpool(serving.start)  # loading a model reads and checksums it
            watcher = asyncio.create_task(serving.watch(app.state.settings.model_poll_seconds))
            try:
                yield
            finally:
                await run_in_threadpool(jobs.shutdown)
                watcher.cancel()
                with suppress(asyncio.CancelledError):
                    await watcher
    finally:
        stores.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app with its own settings, model server and metrics (so tests can build many)."""
    settings = settings or get_settings()
    stores = open_stores(settings)
    serving = ModelServer(stores.registry)
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
    app.state.stopping = Stopping()
    app.state.stores = stores
    app.state.serving = serving
    app.state.metrics = metrics
    app.state.predictor = Predictor(serving, settings, metrics)
    app.state.jobs = JobManager(
        settings.home,
        settings.gate_tolerance_pp,
        settings.job_timeout_seconds,
        store=stores.jobs,
        child_env=stores.job_env(settings),
    )
    app.state.insights = Insights(stores.mnist)
    app.state.feedback = stores.feedback
    app.state.feedback_limiter = stores.limiter("feedback", settings.feedback_rate_limit)
    app.state.admin_failures = stores.limiter("admin_failures", settings.admin_failure_limit)
    app.state.predictions_in_flight = InFlightLimit(
        settings.max_concurrent_predictions, metrics.refused.labels("overloaded")
    )

    install_error_handlers(app)
    routers = (
        *(pages, admin_page, predict, explain, read, example_digits, feedback, model),
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
    # and the body limits apply before any route reads a body; a HEAD is routed as GET.
    app.add_middleware(HeadAsGet)
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
