"""Interactive API docs at /docs that work offline: Swagger UI served from this server.

FastAPI's default /docs loads Swagger UI from a CDN. Here its files come from the
``swagger-ui-bundle-v2`` package, and the page gets its own Content-Security-Policy: the app's
policy forbids inline script, and Swagger UI starts from one inline ``<script>``, which this
policy admits by its sha256 (and nothing else inline).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

router = APIRouter(include_in_schema=False)

ASSETS_DIR = Path(str(swagger_ui_path))
ASSETS = {
    "swagger-ui-bundle.js": ASSETS_DIR / "swagger-ui-bundle.js",
    "swagger-ui.css": ASSETS_DIR / "swagger-ui.css",
    "favicon-32x32.png": ASSETS_DIR / "favicon-32x32.png",
}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: str) -> str:
    """The CSP for a Swagger UI page: the app's policy plus the page's own inline scripts."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    page = get_swagger_ui_html(
        openapi_url=root + request.app.openapi_url,
        title=f"{request.app.title} — API",
        swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
        swagger_favicon_url=f"{root}/docs/assets/favicon-32x32.png",
        # No call to the public validator service: the page must work with no internet.
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers["Content-Security-Policy"] = docs_policy(page.body.decode())
    return page


@router.get("/docs/assets/{name}")
def swagger_asset(name: str) -> FileResponse:
    path = ASSETS.get(name)
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
