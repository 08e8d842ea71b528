"""What model is answering: its version, shape, training config and measured metrics, and what
its first layer's units look for (their incoming weights as 28×28 images)."""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from app.deps import ServerDep, SettingsDep
from app.errors import ApiError
from app.schemas import ErrorResponse, ModelCalibration, ModelInfo, Units, UnitWeights
from app.serving import NoModelError
from model.explain import unit_order
from model.verdict import Calibration

router = APIRouter(prefix="/api", tags=["model"])


@router.get(
    "/model",
    response_model=ModelInfo,
    summary="The active model",
    responses={503: {"model": ErrorResponse, "description": "No model is loaded yet."}},
)
def model_info(server: ServerDep, settings: SettingsDep) -> ModelInfo:
    """The model this server process predicts with (it follows the registry's active version)."""
    model = server.model
    if model is None:
        raise NoModelError("no model is loaded")
    meta = model.meta
    calibration = Calibration.of(meta)
    return ModelInfo(
        version=model.version,
        created=str(meta.get("created", "")),
        sizes=meta["sizes"],
        activation=meta["activation"],
        calibration=ModelCalibration(
            temperature=calibration.temperature,
            not_a_digit_threshold=(
                calibration.not_a_digit_threshold if meta["sizes"][-1] > 10 else None
            ),
            unsure_threshold=settings.unsure_threshold,
            fitted_on=(meta.get("calibration") or {}).get("fitted_on"),
        ),
        config=meta.get("config"),
        metrics=meta.get("metrics"),
        data_fingerprint=meta.get("data_fingerprint"),
    )


# The units' weights change only with the model: clients revalidate with the ETag (a 304 costs
# nothing to send) rather than being told to keep an answer the next activation makes stale.
_UNITS_CACHE = "no-cache"


@router.get(
    "/model/units",
    response_model=Units,
    summary="What the first layer's units look for",
    responses={
        304: {"description": "Unchanged since the ETag sent in If-None-Match."},
        422: {"model": ErrorResponse, "description": "No such layer or unit."},
        503: {"model": ErrorResponse, "description": "No model is loaded yet."},
    },
)
def model_units(
    request: Request,
    server: ServerDep,
    layer: Annotated[int, Query(description="The hidden layer: 1, the one that sees pixels.")] = 1,
    ids: Annotated[
        str | None, Query(description="Comma-separated unit indices, e.g. `0,17,300`.")
    ] = None,
    top: Annotated[
        int | None,
        Query(
            ge=1,
            le=4096,
            description="Instead of `ids`: the N most varied units (by the "
            "spread of their weights), most varied first. 64 when neither is given.",
        ),
    ] = None,
) -> Response:
    """Each unit's 784 incoming weights, the image of what it responds to: positive weights
    where ink raises its z, negative where ink lowers it. Sent as signed bytes (base64) with a
    scale, 1 kB a unit. The `ETag` names the model version; send it back in `If-None-Match`."""
    model = server.current()
    weights = model.network.weights[0]  # (784, h1)
    if len(model.network.weights) < 2:
        raise ApiError(
            422,
            "validation_error",
            f"model {model.version} has no hidden layer: its "
            "784 inputs go straight to the ten scores",
        )
    if layer != 1:
        raise ApiError(
            422,
            "validation_error",
            "query.layer: only layer 1's units have 784 "
            "incoming weights, one per pixel, that form a 28×28 image; use layer=1",
        )
    chosen = _unit_ids(ids, weights.shape[1]) if ids else unit_order(model.network)[: top or 64]
    key = hashlib.sha256(",".join(map(str, chosen)).encode()).hexdigest()[:16]
    etag = f'"{model.version}-{layer}-{key}"'
    headers = {"ETag": etag, "Cache-Control": _UNITS_CACHE}
    if _matches(etag, request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    units = []
    for unit in chosen:
        w = weights[:, unit].astype(np.float64)
        scale = float(np.abs(w).max()) or 1.0
        quantised = np.round(w / scale * 127).astype(np.int8)
        units.append(
            UnitWeights(
                id=int(unit),
                scale=round(scale, 6),
                spread=round(float(w.std()), 6),
                weights=base64.b64encode(quantised.tobytes()).decode("ascii"),
            )
        )
    body = Units(
        version=model.version, layer=layer, size=weights.shape[1], shape=[28, 28], units=units
    )
    return JSONResponse(body.model_dump(), headers=headers)


def _unit_ids(text: str, size: int) -> list[int]:
    """'0,17,300' → [0, 17, 300], each checked against the layer's size (422 otherwise)."""
    accepted = f"comma-separated unit indices from 0 to {size - 1}"
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or len(parts) > size or not all(p.isascii() and p.isdigit() for p in parts):
        raise ApiError(422, "validation_error", f"query.ids: send {accepted}")
    chosen = list(dict.fromkeys(int(p) for p in parts))  # in order, each once
    if max(chosen) >= size:
        raise ApiError(
            422, "validation_error", f"query.ids: {max(chosen)} is out of range; send {accepted}"
        )
    return chosen


def _matches(etag: str, if_none_match: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (RFC 9110 §13.1.2): "*", or one of its
    comma-separated tags, weak (W/"…") or strong, equal to it; not merely containing it."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
