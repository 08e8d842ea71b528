"""HTML pages: the drawing page at ``/``.

The page is static apart from the model version and a link to the API docs. The version is
rendered from the model server when one is loaded; the page also asks ``GET /api/model`` if it
is missing, and every prediction carries the version that answered, so it stays current.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.routing import NoMatchFound

from app.deps import ServerDep

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

templates = Jinja2Templates(directory=TEMPLATES_DIR)

router = APIRouter(tags=["pages"])


def _docs_path(request: Request) -> str | None:
    """The path of the interactive API docs, or None if this app has no docs route."""
    try:
        return request.url_for("swagger_ui").path
    except NoMatchFound:
        return None


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, server: ServerDep) -> HTMLResponse:
    """The drawing page: a canvas, the ten confidence bars and what the network sees."""
    return templates.TemplateResponse(
        request,
        "index.html",
        {"model_version": server.version, "docs_path": _docs_path(request)},
    )
