"""Request limits, as pure ASGI middleware: body size, body time, and predictions in flight.

``BodyLimits`` watches the app's ``receive``. A declared Content-Length over the size limit is
refused at the first read, before a byte of the body is taken in, and a body without one (chunked
transfer) is counted chunk by chunk as it arrives, so an oversized upload is cut off at the limit
instead of being buffered whole. A body that has not fully arrived ``timeout`` seconds after the
route began to read it is refused with 408, so a client that trickles its body in cannot hold a
request open. A route that never reads its body is unaffected.

``ConcurrencyLimit`` bounds the requests in flight under some paths, per server process. Past the
bound a request is answered 503 at once, without reading its body, instead of waiting in a queue
that only grows under overload.
"""

from __future__ import annotations

import asyncio

from prometheus_client import Counter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ApiError, error_response


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "body_too_large", f"the request body is larger than {limit} bytes, the limit here"
    )


def _too_slow(timeout: float) -> ApiError:
    return ApiError(
        408,
        "body_timeout",
        f"the request body did not arrive within {timeout:g} s; send it in one go",
    )


class BodyLimits:
    """Bodies of at most ``default_limit`` bytes (``limits[path]`` for listed paths), arriving
    within ``timeout`` seconds of the first read."""

    def __init__(
        self,
        app: ASGIApp,
        default_limit: int,
        timeout: float,
        limits: dict[str, int] | None = None,
    ):
        self.app = app
        self.default_limit = default_limit
        self.timeout = timeout
        self.limits = limits or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"].rstrip("/"), self.default_limit)

        declared = Headers(scope=scope).get("content-length")
        declared_too_large = declared is not None and declared.isdigit() and int(declared) > limit
        received = 0
        deadline: float | None = None
        body_complete = False

        async def receive_within_limits() -> Message:
            nonlocal received, deadline, body_complete
            # Raised inside the route's body read, so the app's error handler answers and the
            # request is counted under its route. A declared length is refused before any byte
            # is read; a chunked body is refused at the chunk that crosses the limit.
            if declared_too_large:
                raise _too_large(limit)
            if body_complete:
                # After the body, receive only waits for the client to disconnect (a streamed
                # response listens for that): no deadline applies.
                return await receive()
            loop = asyncio.get_running_loop()
            deadline = deadline or loop.time() + self.timeout
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise _too_slow(self.timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
                body_complete = not message.get("more_body", False)
            return message

        await self.app(scope, receive_within_limits, send)


class ConcurrencyLimit:
    """At most ``limit`` requests in flight at once whose path starts with one of ``prefixes``."""

    def __init__(
        self, app: ASGIApp, limit: int, prefixes: tuple[str, ...], refused: Counter | None = None
    ):
        self.app = app
        self.limit = limit
        self.prefixes = prefixes
        self.refused = refused
        self.in_flight = 0  # only touched on the event loop, so no lock is needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            if self.refused is not None:
                self.refused.inc()
            response = error_response(
                503,
                "overloaded",
                f"the server is busy: {self.limit} predictions are in progress in this process, "
                "its limit; retry in a second",
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
