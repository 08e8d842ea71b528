"""A missing page: a small HTML page for a browser, the usual JSON error for a program.

Which one is chosen by the request's ``Accept`` header: HTML only when it ranks ``text/html``
above ``application/json``. A browser navigating sends ``text/html,…,*/*;q=0.8`` and gets the
page; curl, ``fetch()`` and HTTP libraries send ``*/*`` (a tie) or ask for JSON, and get JSON.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.routing import NoMatchFound

# The pages' templates folder (app.routes.pages.TEMPLATES_DIR, which cannot be imported here:
# the routes import the error handlers that import this module).
templates = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")


def _quality(accept: str, media_type: str) -> float:
    """The q-value ``accept`` gives ``media_type`` (its type, ``type/*`` or ``*/*``), 0 if none."""
    kind = media_type.split("/")[0]
    best, specificity = 0.0, -1
    for part in accept.split(","):
        name, *params = (p.strip() for p in part.split(";"))
        rank = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(name.lower())
        if rank is None or rank < specificity:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        best, specificity = q, rank  # the most specific match decides, as RFC 9110 says
    return best


def wants_html(request: Request) -> bool:
    """Whether the client prefers an HTML page to JSON (strictly: a tie goes to JSON)."""
    accept = request.headers.get("accept", "")
    return _quality(accept, "text/html") > _quality(accept, "application/json")


def not_found_page(request: Request) -> HTMLResponse:
    """The 404 page, which links back to the drawing page and to the API docs."""
    try:
        docs_path = request.url_for("swagger_ui").path
    except NoMatchFound:
        docs_path = None
    serving = getattr(request.app.state, "serving", None)
    return templates.TemplateResponse(
        request,
        "404.html",
        {
            "path": request.url.path,
            "docs_path": docs_path,
            "model_version": serving.version if serving is not None else None,
        },
        status_code=404,
    )
