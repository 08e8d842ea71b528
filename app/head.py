"""HEAD is GET without the body (RFC 9110 §9.3.2), on every address, as an ASGI middleware.

Uptime monitors, link checkers and ``curl -I`` ask with HEAD. FastAPI's GET routes do not
answer it, and declaring it on every route would list a second operation for each in /docs. So
the routes declare GET alone, and here a HEAD request is handled as that GET: the same status
and headers (Content-Length included, as the RFC asks), and no body. A streamed answer is
stopped at its first part, so a HEAD on an event stream ends at once instead of holding its
connection for as long as the stream would run; any other answer runs to its end (background
tasks included). Everything outside sees the HEAD (the access log, the metrics' method label);
only the routing beneath sees a GET. A 405's Allow lists HEAD beside GET (``app.errors``).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BODY = {"http.response.body", "http.response.pathsend", "http.response.zerocopysend"}
_NO_BODY: Message = {"type": "http.response.body", "body": b"", "more_body": False}


class _HeadersSent(Exception):
    """The answer's status and headers are out, and it streams: a HEAD wants no more of it."""


class HeadAsGet:
    """Routes a HEAD request as GET, and sends its answer's start without the body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        ended = False

        async def send_headers_only(message: Message) -> None:
            nonlocal ended
            if message["type"] not in _BODY:
                await send(message)  # the start, and anything else a server may understand
                return
            if not ended:
                ended = True
                await send(_NO_BODY)
            if message.get("more_body", False):
                raise _HeadersSent  # a stream would otherwise run on, for nobody

        # A copy: the server reads its own scope's HEAD as it sends. What routing adds to the
        # scope (the route it found, for the metrics) is copied back, as Starlette's router does.
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send_headers_only)
        except _HeadersSent:
            pass
        finally:
            scope.update({key: value for key, value in as_get.items() if key != "method"})
