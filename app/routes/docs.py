"""Interactive API docs at /docs that work offline: Swagger UI served from this server.

FastAPI's default /docs loads Swagger UI from a CDN and starts it with an inline script. Here
its files come from the ``swagger-ui-bundle-v2`` package and it is started by
``static/js/docs.js``, so the page allows no inline script. The page (``templates/docs.html``)
links back to the app, lists the endpoints first, and ends with the table of error codes
(``app.error_codes``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from swagger_ui_bundle import swagger_ui_path

from app.error_codes import ADMIN_ERRORS, DRAWING_ERRORS
from app.routes.pages import TEMPLATES_DIR

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=TEMPLATES_DIR)

ASSETS_DIR = Path(str(swagger_ui_path))
ASSETS = {
    "swagger-ui-bundle.js": ASSETS_DIR / "swagger-ui-bundle.js",
    "swagger-ui.css": ASSETS_DIR / "swagger-ui.css",
    "favicon-32x32.png": ASSETS_DIR / "favicon-32x32.png",
}

# The app's policy (app.headers) plus data: images, which Swagger UI uses for its icons.
DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    return templates.TemplateResponse(
        request,
        "docs.html",
        {
            "title": f"{request.app.title} — API",
            "root": root,
            "openapi_url": root + request.app.openapi_url,
            "tables": [
                ("The public API: predict, explain, read, feedback, the lab", DRAWING_ERRORS),
                ("Admin (/api/admin/*)", ADMIN_ERRORS),
            ],
        },
        headers={"Content-Security-Policy": DOCS_POLICY},
    )


@router.get("/docs/assets/{name}")
def swagger_asset(name: str) -> FileResponse:
    path = ASSETS.get(name)
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
