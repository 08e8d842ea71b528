"""Request limits: body size and body time (ASGI middleware), and predictions in progress.

``BodyLimits`` watches the app's ``receive``. A declared Content-Length over the size limit is
refused at the first read, before a byte of the body is taken in, and a body without one (chunked
transfer) is counted chunk by chunk as it arrives, so an oversized upload is cut off at the limit
instead of being buffered whole. A body must arrive within ``timeout`` seconds of the route's
first read, plus one second for every ``MIN_BYTES_PER_SECOND`` bytes already received, so a
large upload on a slow link gets its time while a client that trickles bytes in is cut off with
408. Both refusals close the connection, so the client cannot keep it busy with the rest of a
body nobody will read. A route that never reads its body is unaffected.

``InFlightLimit`` bounds the drawings being read in one server process: every route that decodes
an image or predicts (``/api/predict``, its batch, ``/api/feedback``) shares it. A route takes a
slot once it has the request's body (a client that is slow to send holds no slot, only its
connection, and the body deadline ends that); past the bound it answers 503 at once, before any
decoding or prediction, instead of queueing for the threadpool without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ApiError

# The slowest average rate a large body may arrive at: 100 kB/s (800 kbit/s).
MIN_BYTES_PER_SECOND = 100_000
# Sent with a refusal that leaves the body unread: uvicorn would otherwise go on reading (and
# throwing away) whatever the client still sends, for as long as it sends it.
_CLOSE = {"Connection": "close"}


def _too_large(limit: int) -> ApiError:
    message = f"the request body is larger than {limit} bytes, the limit here"
    error = ApiError(413, "body_too_large", message)
    error.headers = _CLOSE
    return error


def _too_slow(timeout: float) -> ApiError:
    message = (
        f"the request body arrived too slowly: a body gets {timeout:g} s, plus 1 s for every "
        f"{MIN_BYTES_PER_SECOND // 1000} kB received"
    )
    error = ApiError(408, "body_timeout", message)
    error.headers = _CLOSE
    return error


class BodyLimits:
    """Bodies of at most ``default_limit`` bytes (``limits[path]`` for listed paths), arriving
    within ``timeout`` seconds of the first read plus 1 s per ``MIN_BYTES_PER_SECOND`` bytes."""

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
        started: float | None = None
        body_complete = False

        async def receive_within_limits() -> Message:
            nonlocal received, started, body_complete
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
            if started is None:
                started = loop.time()
            allowed = self.timeout + received / MIN_BYTES_PER_SECOND
            try:
                async with asyncio.timeout_at(started + allowed):
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


class InFlightLimit:
    """At most ``limit`` drawings being read at once; ``slot()`` raises 503 past it.

    Taken and given back on the event loop only (routes hold it around their threadpool call),
    so the count needs no lock.
    """

    def __init__(self, limit: int, refused: Counter | None = None):
        self.limit = limit
        self.refused = refused
        self.in_flight = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self.in_flight >= self.limit:
            if self.refused is not None:
                self.refused.inc()
            error = ApiError(
                503,
                "overloaded",
                f"the server is busy: {self.limit} drawings are being read (predictions and "
                "feedback) in this process, its limit; retry in a second",
            )
            error.headers = {"Retry-After": "1"}
            raise error
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
