"""The admin API for the model registry: list the versions, activate one (roll back or
forward), delete one; and what the served model gets wrong on the MNIST test set.

Every route needs ``Authorization: Bearer <admin token>`` (``app.security``).
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Depends, Response

from app.deps import InsightsDep, JobsDep, ServerDep
from app.errors import ApiError
from app.jobs import ACTIVE, FETCHING
from app.schemas import Activated, ErrorResponse, Insights, ModelList, ModelSummary, WorkerInfo
from app.security import ADMIN_ERRORS, NO_TOKEN_OR_MNIST, require_admin
from model.data import DataError
from model.modelfile import ModelFileError
from model.registry import VERSION_PATTERN, VersionNotFound

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=ADMIN_ERRORS,
)


def _summary(meta: dict, active: str | None) -> ModelSummary:
    """A version's metadata as the list shows it (its per-epoch history and per-class figures
    stay in the file)."""
    fields = {name: meta.get(name) for name in ModelSummary.model_fields if name != "active"}
    fields["metrics"] = meta.get("metrics") or {}
    return ModelSummary.model_validate({**fields, "active": meta.get("version") == active})


@router.get("/models", response_model=ModelList, summary="Every model version, newest first")
def list_models(server: ServerDep) -> ModelList:
    registry = server.registry
    active = registry.active_version()
    models = [_summary(m, active) for m in registry.metas()]
    return ModelList(active=active, serving=server.version, models=models)


def _model_not_found(version: str) -> ApiError:
    return ApiError(
        404,
        "model_not_found",
        f"there is no model version {version!r}; GET /api/admin/models lists them",
    )


@router.post(
    "/models/{version}/activate",
    response_model=Activated,
    summary="Make a version active (roll back or forward)",
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
def activate_model(version: str, server: ServerDep) -> Activated:
    """Verify the version's file (its checksum, and that it is a 784-in digit model with 10
    outputs, or 11 with "not a digit") and make it the active one. Every worker serves it within
    about a second."""
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
    return Activated(active=version, serving=server.version)


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
    response_model=Insights,
    summary="The served model's confusion matrix and worst mistakes",
    responses={503: NO_TOKEN_OR_MNIST},
)
def insights(server: ServerDep, insights: InsightsDep, jobs: JobsDep) -> Insights:
    """On the MNIST test set: the confusion matrix (rows = true digit, columns = predicted)
    and the test digits the model got wrong with the highest confidence."""
    model = server.current()
    try:
        return insights.for_model(model)
    except DataError:
        raise ApiError(503, "mnist_unavailable", _no_mnist(jobs)) from None


def _no_mnist(jobs) -> str:
    """Why there is no MNIST yet, and when there will be, in words for the admin page."""
    latest = jobs.store.records(1)
    if latest and latest[0].get("status") in ACTIVE:
        job = latest[0]
        if job.get("phase") == FETCHING:
            return f"MNIST is being fetched by job {job['id']}; the figures follow when it is done"
        return f"MNIST is not in the data home yet; job {job['id']} fetches it before it trains"
    return (
        "MNIST is not in the data home yet: the first retrain fetches it (or run "
        "'digits data fetch' on the server)"
    )


@router.get(
    "/worker",
    response_model=WorkerInfo,
    summary="This worker process: its pid and the version it serves",
)
def worker(server: ServerDep) -> WorkerInfo:
    return WorkerInfo(
        pid=os.getpid(),
        serving=server.version,
        active=server.registry.active_version(),
        loads=server.loads,
    )
