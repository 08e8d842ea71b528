"""Security headers on every response, as a pure ASGI middleware.

The Content-Security-Policy allows only this origin's own scripts, styles and fonts (no inline
script or style, no CDN), images from this origin plus ``data:``/``blob:`` URLs (the canvas and
the 28×28 preview), and no plugins, framing, or foreign form targets. A route that needs a
different policy (the offline Swagger UI at /docs) sets its own header, which is kept.

Every ``/api/`` answer is ``Cache-Control: no-store`` unless its route says otherwise: admin
answers and the feedback export must never sit in a browser's or a proxy's cache, and a
prediction belongs to the model that made it.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


API_PREFIX = "/api/"
API_CACHE_CONTROL = "no-store"


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP response that does not already set them, and
    ``Cache-Control: no-store`` to every API response that sets no Cache-Control."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        api = scope["path"].startswith(API_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if api:
                    headers.setdefault("Cache-Control", API_CACHE_CONTROL)
            await send(message)

        await self.app(scope, receive, send_with_headers)
