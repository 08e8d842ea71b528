"""Prometheus scrape endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.deps import MetricsDep

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "The Prometheus text format."}
    },
)
def metrics(metrics: MetricsDep) -> Response:
    """Requests and latency per route, predictions per digit, and the model being served."""
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
