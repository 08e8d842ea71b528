"""The admin page at ``/admin``: retrain, watch a job, manage model versions.

The page itself holds no data; its script asks for the admin token, keeps it in
``sessionStorage`` and loads everything from ``/api/admin/*`` with it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.routing import NoMatchFound

from app.deps import ServerDep, SettingsDep
from app.jobs import FINAL
from app.routes.pages import TEMPLATES_DIR
from app.schemas import RETRAIN_LIMITS, RetrainRequest
from model.losses import LOSSES
from model.network import ACTIVATIONS

templates = Jinja2Templates(directory=TEMPLATES_DIR)
router = APIRouter(tags=["pages"])


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
def admin(request: Request, server: ServerDep, settings: SettingsDep) -> HTMLResponse:
    try:
        docs_path = request.url_for("swagger_ui").path
    except NoMatchFound:
        docs_path = None
    return templates.TemplateResponse(
        request,
        "admin.html",
        {
            "model_version": server.version,
            "docs_path": docs_path,
            "train_defaults": RetrainRequest().model_dump(),
            "limits": RETRAIN_LIMITS,
            # The page reads these facts from here, so that they are written once (in app.jobs
            # and in model/), never again in the page's script or template.
            "job_statuses": sorted(FINAL),
            "gate_tolerance_pp": settings.gate_tolerance_pp,  # named by the Force confirmation
            "activations": list(ACTIVATIONS),
            "losses": list(LOSSES),
        },
        headers={"Cache-Control": "no-store"},
    )
