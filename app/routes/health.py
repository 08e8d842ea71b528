"""Liveness and readiness, for load balancers and orchestrators.

Ready means this replica can do its whole job: a model is loaded and, with a shared database,
the database answers. While the database is down a replica is not ready (a load balancer may
send its traffic elsewhere), yet it still answers predictions from the model it has loaded.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.deps import ServerDep, SettingsDep, StoresDep
from app.schemas import ErrorResponse, Health, Readiness
from app.serving import NoModelError

router = APIRouter(tags=["operations"])

# How long /readyz waits for the shared database: a health checker gives a probe about 2 s
# (HAProxy's default interval), and one that times out learns less than a 503 that says why.
READY_SECONDS = 2.0


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process is up. Does no work at all, so it is the baseline for latency benchmarks."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    responses={
        503: {
            "model": ErrorResponse,
            "description": "No model is loaded yet (`model_unavailable`), or the shared database "
            "cannot be reached (`database_unavailable`).",
        }
    },
)
async def readyz(server: ServerDep, stores: StoresDep, settings: SettingsDep) -> Readiness:
    """Ready when a model is loaded and predictions can be served, and, with a shared database,
    when it answers."""
    version = server.version
    if version is None:
        raise NoModelError("no model is loaded")
    if stores.shared:
        within = min(READY_SECONDS, settings.database_timeout_seconds)
        await run_in_threadpool(stores.check_ready, within)  # DatabaseUnavailable → 503
    return Readiness(status="ready", model_version=version)
