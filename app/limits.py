"""The request-body size limit, enforced while the body streams in.

A pure ASGI middleware that watches the app's ``receive``: a declared Content-Length over the
limit is refused at the first read, before a byte of the body is taken in, and a body without
one (chunked transfer) is counted chunk by chunk as it arrives, so an oversized upload is cut off
at the limit instead of being buffered whole. A route that never reads its body is unaffected.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ApiError


def _too_large(limit: int) -> tuple[int, str, str]:
    return 413, "body_too_large", f"the request body is larger than {limit} bytes, the limit here"


class BodySizeLimit:
    """Limits request bodies to ``default_limit`` bytes, or ``limits[path]`` for listed paths."""

    def __init__(self, app: ASGIApp, default_limit: int, limits: dict[str, int] | None = None):
        self.app = app
        self.default_limit = default_limit
        self.limits = limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"].rstrip("/"), self.default_limit)

        declared = Headers(scope=scope).get("content-length")
        declared_too_large = declared is not None and declared.isdigit() and int(declared) > limit
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            # Raised inside the route's body read, so the app's error handler answers 413 and
            # the request is counted under its route. A declared length is refused before any
            # byte is read; a chunked body is refused at the chunk that crosses the limit.
            if declared_too_large:
                raise ApiError(*_too_large(limit))
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ApiError(*_too_large(limit))
            return message

        await self.app(scope, receive_within_limit, send)
