"""One JSON shape for every error: ``{"error": {"code": ..., "message": ..., "details"?: ...}}``.

``code`` is a stable, machine-readable name; ``message`` says what was wrong and what is
accepted. Errors the app raises itself are ``ApiError``s; FastAPI's validation errors and
Starlette's HTTP errors (404, 405, …) are reshaped into the same form (but a browser asking for a
page that does not exist gets a small HTML page, ``app.not_found``), and an unexpected
exception becomes a 500 ``internal_error``, which is always a bug.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match, Mount
from starlette.types import Scope

from app.db import DatabaseUnavailable
from app.headers import API_CACHE_CONTROL, SECURITY_HEADERS
from app.not_found import not_found_page, wants_html
from app.serving import NoModelError

log = logging.getLogger(__name__)

# Codes for HTTP errors raised by the framework rather than by this app.
_STATUS_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")  # the order a 405's Allow lists
_MAX_DETAILS = 20  # enough to fix a request, bounded so a 1000-item batch can't echo 1000 errors


class ApiError(HTTPException):
    """An error with a status, a stable code and a message for the client.

    A subclass of FastAPI's HTTPException, so it passes through FastAPI's body parsing untouched
    (the body-size limit raises it from inside ``receive``).
    """

    def __init__(self, status_code: int, code: str, message: str, details: Any = None):
        super().__init__(status_code=status_code, detail=message)
        self.code = code
        self.message = message
        self.details = details


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status_code, headers=headers)


def methods_taken(routes, scope: Scope) -> list[str]:
    """The methods the address in ``scope`` takes among ``routes``, HEAD wherever GET is (every
    GET answers HEAD, ``app.head``). Starlette's own Allow names those of the first route on the
    path only: PUT /api/admin/feedback/1 said PATCH, where DELETE is taken too.

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


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI's own body parsing (a JSON body parameter) turns bytes that are not UTF-8 into a
        # bare 400; everywhere else in this API an unreadable JSON body is 422 invalid_json.
        return error_response(
            422, "invalid_json", "the body is not valid JSON (it is not UTF-8); send a JSON object"
        )
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code == 404 and wants_html(request):
        return not_found_page(request)  # a person in a browser followed a dead link
    if exc.status_code == 404:
        message = f"nothing at {request.method} {request.url.path}; the API is described at /docs"
    headers = exc.headers
    if exc.status_code == 405:
        allowed = ", ".join(methods_taken(request.app.router.routes, request.scope))
        headers = {**(exc.headers or {}), "Allow": allowed}
        message = f"{request.url.path} does not take {request.method}; it takes {allowed}"
    return error_response(exc.status_code, code, message, headers=headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request", "type": ""}
    if first["type"] == "json_invalid":
        reason = (exc.errors()[0].get("ctx") or {}).get("error") or first["msg"]
        return error_response(
            422, "invalid_json", f"the body is not valid JSON ({reason}); send a JSON object"
        )
    where = ".".join(str(part) for part in first["loc"])
    message = f"{where}: {first['msg']}" if where else first["msg"]
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return error_response(422, "validation_error", message, errors[:_MAX_DETAILS])


async def _no_model(request: Request, exc: NoModelError) -> JSONResponse:
    message = "no model is loaded yet, so nothing can be predicted; /readyz tells when one is"
    return error_response(503, "model_unavailable", message, headers={"Retry-After": "5"})


async def _no_database(request: Request, exc: DatabaseUnavailable) -> JSONResponse:
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    message = (
        "the shared database cannot be reached right now, so this cannot be done; predictions "
        "still work. Retry in a few seconds"
    )
    return error_response(503, "database_unavailable", message, headers={"Retry-After": "5"})


async def _client_gone(request: Request, exc: ClientDisconnect) -> JSONResponse:
    # The client closed the connection before its whole body arrived: an aborted upload, not a
    # server error. Nobody reads this answer; the log and the metrics see a 400, not a 500.
    path = request.url.path
    log.info("%s %s: the client went away before its body arrived", request.method, path)
    message = "the connection closed before the whole body arrived; send it again"
    return error_response(400, "body_incomplete", message)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error in %s %s", request.method, request.url.path)
    # This handler runs in the outermost middleware, outside SecurityHeaders, so add them here.
    return error_response(
        500,
        "internal_error",
        "an unexpected error occurred on the server; this is a bug, please report it",
        headers={**SECURITY_HEADERS, "Cache-Control": API_CACHE_CONTROL},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NoModelError, _no_model)
    app.add_exception_handler(DatabaseUnavailable, _no_database)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected_error)
