"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import ServerDep
from app.schemas import ErrorResponse, Health, Readiness
from app.serving import NoModelError

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> Health:
    """The process is up. Does no work at all, so it is the baseline for latency benchmarks."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness",
    responses={503: {"model": ErrorResponse, "description": "No model is loaded yet."}},
)
async def readyz(server: ServerDep) -> Readiness:
    """Ready when a model is loaded and predictions can be served."""
    version = server.version
    if version is None:
        raise NoModelError("no model is loaded")
    return Readiness(status="ready", model_version=version)
