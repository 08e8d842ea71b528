"""What model is answering: its version, shape, training config and measured metrics."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import ServerDep
from app.schemas import ErrorResponse, ModelInfo
from app.serving import NoModelError

router = APIRouter(prefix="/api", tags=["model"])


@router.get(
    "/model",
    response_model=ModelInfo,
    summary="The active model",
    responses={503: {"model": ErrorResponse, "description": "No model is loaded yet."}},
)
def model_info(server: ServerDep) -> ModelInfo:
    """The model this server process predicts with (it follows the registry's active version)."""
    model = server.model
    if model is None:
        raise NoModelError("no model is loaded")
    meta = model.meta
    return ModelInfo(
        version=model.version,
        created=str(meta.get("created", "")),
        sizes=meta["sizes"],
        activation=meta["activation"],
        config=meta.get("config"),
        metrics=meta.get("metrics"),
        data_fingerprint=meta.get("data_fingerprint"),
    )
