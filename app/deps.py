"""Route dependencies: the app's settings and services, read from ``app.state``.

``create_app`` puts them there, one set per app, so tests can build apps side by side. They are
``async`` on purpose: FastAPI runs a plain ``def`` dependency in the threadpool, a round trip that
costs more than the rest of a JSON prediction's routing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.insights import Insights
from app.jobs import JobManager
from app.limits import InFlightLimit
from app.metrics import Metrics
from app.predictor import Predictor
from app.serving import ModelServer
from app.stores import Stores


async def app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def model_server(request: Request) -> ModelServer:
    return request.app.state.serving


async def predictor(request: Request) -> Predictor:
    return request.app.state.predictor


async def predictions_in_flight(request: Request) -> InFlightLimit:
    return request.app.state.predictions_in_flight


async def metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def jobs(request: Request) -> JobManager:
    return request.app.state.jobs


async def insights(request: Request) -> Insights:
    return request.app.state.insights


async def stores(request: Request) -> Stores:
    return request.app.state.stores


SettingsDep = Annotated[Settings, Depends(app_settings)]
ServerDep = Annotated[ModelServer, Depends(model_server)]
PredictorDep = Annotated[Predictor, Depends(predictor)]
InFlightDep = Annotated[InFlightLimit, Depends(predictions_in_flight)]
MetricsDep = Annotated[Metrics, Depends(metrics)]
JobsDep = Annotated[JobManager, Depends(jobs)]
InsightsDep = Annotated[Insights, Depends(insights)]
StoresDep = Annotated[Stores, Depends(stores)]
