"""The admin API for training jobs: start one, list them, read one, cancel it, follow it live.

Every route needs ``Authorization: Bearer <admin token>`` (``app.security``). Training runs in a
separate process (``app.jobs``); these routes only start, read and signal jobs.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from app.db import DatabaseUnavailable
from app.deps import JobsDep, SettingsDep
from app.errors import ApiError
from app.inputs import json_if_any_body
from app.jobs import FINAL, JobBusy, JobFinished, JobNotFound, is_job_process
from app.jobs.manager import HOST
from app.jobs.store import final_event
from app.schemas import (
    CancelAccepted,
    ErrorResponse,
    JobList,
    JobRecord,
    RetrainAccepted,
    RetrainRequest,
)
from app.security import ADMIN_ERRORS, require_admin
from app.stopping import Stopping

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ADMIN_ERRORS,
)

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


@router.post(
    "/retrain",
    status_code=202,
    response_model=RetrainAccepted,
    summary="Start a training job",
    responses={
        409: {"model": ErrorResponse, "description": "A job is running (its id is in details)."},
        415: {"model": ErrorResponse, "description": "A body that is not JSON."},
        422: {"model": ErrorResponse, "description": "A field is out of its allowed range."},
    },
    dependencies=[Depends(json_if_any_body)],
)
def retrain(
    request: Request,
    response: Response,
    jobs: JobsDep,
    body: RetrainRequest | None = None,
) -> RetrainAccepted:
    """Train a new network in a separate process. It goes live only if it passes the gate
    (MNIST test accuracy no lower than the active model's minus the tolerance) or `force` is set.
    On a data home without MNIST the job fetches it first (phase `fetching MNIST`, with `fetch`
    events), through the same sources as `digits data fetch`.
    """
    body = body or RetrainRequest()
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


@router.get("/jobs", response_model=JobList, summary="Recent jobs, newest first")
def list_jobs(jobs: JobsDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict:
    """Each job's status, config, result and reason (without its per-epoch history)."""
    jobs.reconcile()
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
    response_model=JobRecord,
    summary="One job",
    responses={404: {"model": ErrorResponse}},
)
def job_status(job_id: str, jobs: JobsDep) -> dict:
    """Status (queued, running, succeeded, rejected, failed, cancelled, interrupted), config,
    per-epoch history, the latest progress, result and reason."""
    record = _read_job(jobs, job_id)
    if record.get("status") not in FINAL:
        jobs.reconcile()
        record = _read_job(jobs, job_id)
    return record


@router.post(
    "/jobs/{job_id}/cancel",
    status_code=202,
    response_model=CancelAccepted,
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
    request: Request,
    job_id: str,
    jobs: JobsDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Every event of the job so far, then new ones as they happen: `status` (the final one
    with the job's `reason`, `result` and `notes`), `phase`, `fetch` (while a fresh install
    fetches MNIST: a step's `message`, or a download's `file`, `done` and `total` bytes),
    `batch` and `epoch` (epoch, batch_fraction, loss, accuracies, elapsed, eta). The stream ends
    after the final `status` event. `Last-Event-ID` resumes after that event."""
    await run_in_threadpool(_read_job, jobs, job_id)
    try:
        skip = max(0, int(last_event_id or 0))
    except ValueError:
        skip = 0
    return StreamingResponse(
        _event_stream(jobs, job_id, skip, settings.events_max_seconds, request.app.state.stopping),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _event_stream(jobs, job_id: str, skip: int, max_seconds: float, stopping: Stopping):
    offset, seq, polls = 0, 0, 0
    started = last_sent = time.monotonic()
    yield "retry: 2000\n\n"
    while not stopping.now:  # stopping: the client resumes elsewhere, or here once it is back
        try:
            events, offset = await run_in_threadpool(jobs.store.read_events, job_id, offset)
        except DatabaseUnavailable:
            events = []  # the stream waits for the database (heartbeats keep it open)
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
                ended, late = None, None
                with suppress(DatabaseUnavailable):
                    ended = await run_in_threadpool(_ended, jobs, job_id)
                    if ended is not None:  # events written since the last read come first
                        late, _ = await run_in_threadpool(jobs.store.read_events, job_id, offset)
                if ended is not None and late == []:
                    # Ended, and its stored events are all sent but hold no final status (lost,
                    # or never written): the stream says it now, and ends like any other.
                    event = final_event(ended)
                    yield f"id: {seq + 1}\nevent: status\ndata: {json.dumps(event)}\n\n"
                    return
            if time.monotonic() - started > max_seconds:
                yield "event: timeout\ndata: {}\n\n"  # the client reconnects with Last-Event-ID
                return
            if time.monotonic() - last_sent > HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(EVENTS_POLL_SECONDS)


def _ended(jobs, job_id: str) -> dict | None:
    """The job's record if it has ended, else None; a job that died unannounced is marked so
    first (its final status then arrives with its events)."""
    record = jobs.store.read(job_id)
    if record.get("status") in FINAL:
        return record
    if record.get("host", HOST) != HOST:
        jobs.reconcile()  # a job on another host: its lease says whether it lives
        return None
    pid = record.get("pid")
    if pid is not None and not is_job_process(pid, job_id):
        jobs.reconcile()
    return None
