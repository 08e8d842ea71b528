"""The admin API: retrain jobs, the model registry, and what the active model gets wrong.

Every route needs ``Authorization: Bearer <admin token>`` (``app.security``). Training runs in a
separate process (``app.jobs``); these routes only start, read and signal jobs.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.deps import InsightsDep, JobsDep, ServerDep, SettingsDep
from app.errors import ApiError
from app.jobs import FINAL, JobBusy, JobFinished, JobNotFound, is_job_process
from app.schemas import ErrorResponse, RetrainAccepted, RetrainRequest
from app.security import ADMIN_ERRORS, require_admin
from app.serving import NoModelError
from model.data import DataError
from model.registry import VERSION_PATTERN, ModelFileError, VersionNotFound

_NO_TOKEN_OR_MNIST = {
    "model": ErrorResponse,
    "description": "No admin token is configured on the server (`admin_disabled`), or MNIST is "
    "not in the data home (`mnist_unavailable`).",
}
router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ADMIN_ERRORS,
)

_NO_MNIST = "MNIST is not in the data home; run `digits data fetch` on the server"
EVENTS_POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0


def _job_not_found(job_id: str) -> ApiError:
    return ApiError(
        404, "job_not_found", f"there is no job {job_id!r}; GET /api/admin/jobs lists them"
    )


def _read_job(jobs, job_id: str) -> dict:
    try:
        return jobs.store.read(job_id)
    except JobNotFound:
        raise _job_not_found(job_id) from None


# ---- jobs --------------------------------------------------------------------------------------


@router.post(
    "/retrain",
    status_code=202,
    response_model=RetrainAccepted,
    summary="Start a training job",
    responses={
        409: {"model": ErrorResponse, "description": "A job is running (its id is in details)."},
        422: {"model": ErrorResponse, "description": "A field is out of its allowed range."},
        503: _NO_TOKEN_OR_MNIST,
    },
)
def retrain(
    request: Request,
    response: Response,
    jobs: JobsDep,
    settings: SettingsDep,
    body: RetrainRequest | None = None,
) -> RetrainAccepted:
    """Train a new network in a separate process. It goes live only if it passes the gate
    (MNIST test accuracy no lower than the active model's minus the tolerance) or `force` is set.
    """
    body = body or RetrainRequest()
    if not (settings.home / "mnist.npz").is_file():
        raise ApiError(503, "mnist_unavailable", _NO_MNIST)
    try:
        record = jobs.start(body.model_dump(), body.train_config().to_dict())
    except JobBusy as busy:
        raise ApiError(
            409,
            "job_running",
            f"job {busy.job_id} is running; one job runs at a time (cancel it, or wait)",
            {"job_id": busy.job_id},
        ) from None
    job_id = record["id"]
    status_url = request.url_for("job_status", job_id=job_id).path
    response.headers["Location"] = status_url
    return RetrainAccepted(
        job_id=job_id,
        status_url=status_url,
        events_url=request.url_for("job_events", job_id=job_id).path,
    )


@router.get("/jobs", summary="Recent jobs, newest first")
def list_jobs(jobs: JobsDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict:
    """Each job's status, config, result and reason (without its per-epoch history)."""
    jobs.store.reconcile()
    records = jobs.store.records(limit)
    for r in records:
        r.pop("history", None)
    return {
        "jobs": records,
        "running": next((r["id"] for r in records if r["status"] not in FINAL), None),
    }


@router.get(
    "/jobs/{job_id}",
    name="job_status",
    summary="One job",
    responses={404: {"model": ErrorResponse}},
)
def job_status(job_id: str, jobs: JobsDep) -> dict:
    """Status (queued, running, succeeded, rejected, failed, cancelled, interrupted), config,
    per-epoch history, the latest progress, result and reason."""
    record = _read_job(jobs, job_id)
    if record.get("status") not in FINAL:
        jobs.store.reconcile()
        record = _read_job(jobs, job_id)
    return record


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=202,
    summary="Cancel a job",
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
def cancel_job(job_id: str, jobs: JobsDep) -> dict:
    """Stop the job's process. It ends `cancelled` and writes nothing to the registry (unless
    it was already writing its result, in which case it finishes)."""
    try:
        record = jobs.cancel(job_id)
    except JobNotFound:
        raise _job_not_found(job_id) from None
    except JobFinished as e:
        raise ApiError(409, "job_finished", str(e)) from None
    return {"job_id": job_id, "status": record.get("status"), "cancelling": True}


@router.get(
    "/jobs/{job_id}/events",
    name="job_events",
    summary="Progress as Server-Sent Events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, 404: {"model": ErrorResponse}},
)
async def job_events(
    job_id: str,
    jobs: JobsDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Every event of the job so far, then new ones as they happen: `status`, `phase`,
    `batch` and `epoch` (epoch, batch_fraction, loss, accuracies, elapsed, eta). The stream
    ends after the final `status` event. `Last-Event-ID` resumes after that event."""
    await run_in_threadpool(_read_job, jobs, job_id)
    try:
        skip = max(0, int(last_event_id or 0))
    except ValueError:
        skip = 0
    return StreamingResponse(
        _event_stream(jobs, job_id, skip, settings.events_max_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _event_stream(jobs, job_id: str, skip: int, max_seconds: float):
    offset, seq, polls = 0, 0, 0
    started = last_sent = time.monotonic()
    yield "retry: 2000\n\n"
    while True:
        events, offset = await run_in_threadpool(jobs.store.read_events, job_id, offset)
        for event in events:
            seq += 1
            kind = event.get("kind", "message")
            final = kind == "status" and event.get("status") in FINAL
            # The final status is sent even to a client that says it has seen it (or claims an
            # id past the end), so that a resumed stream of a finished job always ends.
            if seq <= skip and not final:
                continue
            yield f"id: {seq}\nevent: {kind}\ndata: {json.dumps(event)}\n\n"
            last_sent = time.monotonic()
            if final:
                return
        if not events:
            polls += 1
            if polls % 8 == 0:  # every 2 s: a job that died unannounced gets its final status
                await run_in_threadpool(_check_alive, jobs, job_id)
            if time.monotonic() - started > max_seconds:
                yield "event: timeout\ndata: {}\n\n"  # the client reconnects with Last-Event-ID
                return
            if time.monotonic() - last_sent > HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(EVENTS_POLL_SECONDS)


def _check_alive(jobs, job_id: str) -> None:
    record = jobs.store.read(job_id)
    pid = record.get("pid")
    if record.get("status") not in FINAL and pid is not None and not is_job_process(pid, job_id):
        jobs.store.reconcile()


# ---- models ------------------------------------------------------------------------------------


def _summary(meta: dict, active: str | None) -> dict:
    metrics = meta.get("metrics") or {}
    return {
        "version": meta.get("version"),
        "active": meta.get("version") == active,
        "created": meta.get("created"),
        "parent": meta.get("parent"),
        "job_id": meta.get("job_id"),
        "sizes": meta.get("sizes"),
        "activation": meta.get("activation"),
        "config": meta.get("config"),
        "metrics": {
            k: metrics.get(k)
            for k in (
                "mnist_test_accuracy",
                "validation_accuracy",
                "best_epoch",
                "train_seconds",
                "feedback_accuracy",
                "feedback_size",
            )
        },
        "feedback": meta.get("feedback"),
        "gate": meta.get("gate"),
        "sha256": meta.get("sha256"),
        "error": meta.get("error"),
    }


@router.get("/models", summary="Every model version, newest first")
def list_models(server: ServerDep) -> dict:
    registry = server.registry
    active = registry.active_version()
    return {
        "active": active,
        "serving": server.version,
        "models": [_summary(m, active) for m in registry.metas()],
    }


def _model_not_found(version: str) -> ApiError:
    return ApiError(
        404,
        "model_not_found",
        f"there is no model version {version!r}; GET /api/admin/models lists them",
    )


@router.post(
    "/models/{version}/activate",
    summary="Make a version active (roll back or forward)",
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
def activate_model(version: str, server: ServerDep) -> dict:
    """Verify the version's file (its checksum, and that it is a 784-in, 10-out digit model)
    and make it the active one. Every worker serves it within about a second."""
    try:
        server.registry.activate(version)
    except VersionNotFound:
        raise _model_not_found(version) from None
    except ModelFileError as e:
        if not VERSION_PATTERN.match(version):  # not a name any version can have
            raise _model_not_found(version) from None
        raise ApiError(
            409,
            "model_corrupt",
            f"version {version} was not activated: its file cannot be served ({e}); the "
            f"active model is unchanged",
        ) from None
    server.refresh()  # this worker switches now; the others within a poll interval
    return {"active": version, "serving": server.version}


@router.delete(
    "/models/{version}",
    status_code=204,
    summary="Delete a version that is not active",
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
def delete_model(version: str, server: ServerDep) -> Response:
    try:
        server.registry.delete(version)
    except ValueError:
        raise ApiError(
            409,
            "model_active",
            f"version {version} is active; activate another version before deleting it",
        ) from None
    except ModelFileError:  # no such version, or not a name any version can have
        raise _model_not_found(version) from None
    return Response(status_code=204)


@router.get(
    "/insights",
    summary="The served model's confusion matrix and worst mistakes",
    responses={503: _NO_TOKEN_OR_MNIST},
)
def insights(server: ServerDep, insights: InsightsDep) -> dict:
    """On the MNIST test set: the confusion matrix (rows = true digit, columns = predicted)
    and the test digits the model got wrong with the highest confidence."""
    model = server.model
    if model is None:
        raise NoModelError("no model is loaded")
    try:
        return insights.for_model(model)
    except DataError:
        raise ApiError(503, "mnist_unavailable", _NO_MNIST) from None


@router.get("/worker", summary="This worker process: its pid and the version it serves")
def worker(server: ServerDep) -> JSONResponse:
    return JSONResponse(
        {
            "pid": os.getpid(),
            "serving": server.version,
            "active": server.registry.active_version(),
            "loads": server.loads,
        }
    )
