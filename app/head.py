"""HEAD is GET without the body (RFC 9110 §9.3.2), on every address, as an ASGI middleware.

Uptime monitors, link checkers and ``curl -I`` ask with HEAD. FastAPI's GET routes do not
answer it, and declaring it on every route would list a second operation for each in /docs. So
the routes declare GET alone, and here a HEAD request is handled as that GET: the same status
and headers (Content-Length included, as the RFC asks), and no body. The route stops at its
first part of the body, so a HEAD on an event stream ends at once instead of holding its
connection for as long as the stream would run. Everything outside sees the HEAD (the access
log, the metrics' method label); only the routing beneath sees a GET.

A 405's Allow names every method the address takes (``methods_taken``), HEAD beside GET:
Starlette's names only those of the first route on that path.
"""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")  # the order Allow lists them in
_BODY = {"http.response.body", "http.response.pathsend", "http.response.zerocopysend"}
_NO_BODY: Message = {"type": "http.response.body", "body": b"", "more_body": False}


def methods_taken(routes, scope: Scope) -> list[str]:
    """The methods the address in ``scope`` takes among ``routes`` (HEAD wherever GET is).

    Each method is tried on the path as the app received it (a mount has since moved its prefix
    into ``root_path``). A mount matches every method: the one here serves files, so GET."""
    root = scope.get("app_root_path", scope.get("root_path", ""))
    taken = set()
    for method in METHODS:
        probe = {**scope, "method": method, "root_path": root}
        for route in routes:
            if route.matches(probe)[0] == Match.FULL:
                taken.add("GET" if isinstance(route, Mount) else method)
    return [m for m in METHODS if m in taken or (m == "HEAD" and "GET" in taken)]


class _HeadersSent(Exception):
    """The answer's status and headers are out: a HEAD wants nothing more from the route."""


class HeadAsGet:
    """Routes a HEAD request as GET, and sends its answer's start without the body."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] not in _BODY:
                await send(message)  # the start, and anything else a server may understand
                return
            await send(_NO_BODY)
            raise _HeadersSent  # ends the route's work: a stream would otherwise run on

        # A copy: the server reads its own scope's HEAD as it sends. What routing adds to the
        # scope (the route it found, for the metrics) is copied back, as Starlette's router does.
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send_headers_only)
        except _HeadersSent:
            pass
        finally:
            scope.update({key: value for key, value in as_get.items() if key != "method"})
