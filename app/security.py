"""The admin dependency: every ``/api/admin/*`` route needs ``Authorization: Bearer <token>``.

The token comes from ``Settings.admin_token`` (``DIGITS_ADMIN_TOKEN``; ``digits serve`` makes a
random one when it is unset). It is compared in constant time and never logged or echoed. An app
that has no token configured refuses every admin request with 503 rather than being open.

The token is read from that header only: one in the query string (which lands in logs and
browser history), a cookie (which a browser sends on its own, so a forged cross-site request
would carry it) or basic auth is refused like a missing one.

Wrong tokens are counted per client: after ``admin_failure_limit`` of them within 60 seconds,
every request with a token from that client gets 429, whatever the token, until the oldest of
those failures is 60 seconds old; so the token cannot be guessed at the speed of the server.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.deps import SettingsDep
from app.errors import ApiError
from app.ratelimit import RateLimiter, client_key, too_many
from app.schemas import ErrorResponse

# What require_admin can answer, declared on every admin router for /docs.
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "The admin token is missing or wrong."},
    429: {
        "model": ErrorResponse,
        "description": "Too many wrong admin tokens from this client (`admin_rate_limited`); "
        "`Retry-After` says when to try again.",
    },
    503: {
        "model": ErrorResponse,
        "description": "No admin token is configured on the server (`admin_disabled`), or the "
        "shared database cannot be reached (`database_unavailable`, several hosts only; retry).",
    },
}
# For the route that also needs MNIST in the data home (the insights; a retrain fetches it).
NO_TOKEN_OR_MNIST = {
    "model": ErrorResponse,
    "description": "No admin token is configured on the server (`admin_disabled`), MNIST is "
    "not in the data home yet (`mnist_unavailable`; the first retrain fetches it), or the shared "
    "database cannot be reached (`database_unavailable`).",
}


def _unauthorized(code: str, message: str, challenge: str) -> ApiError:
    error = ApiError(401, code, message)
    error.headers = {"WWW-Authenticate": challenge}
    return error


# Declares the bearer scheme in the OpenAPI document, so that /docs has an "Authorize" button
# and sends the token it is given. It checks nothing (auto_error=False): require_admin reads the
# header itself, refusing the token anywhere else.
ADMIN_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="adminToken",
    description="The admin token (DIGITS_ADMIN_TOKEN), sent as `Authorization: Bearer <token>`.",
)


def require_admin(
    request: Request,
    settings: SettingsDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(ADMIN_BEARER)],
) -> None:
    """Raise 401 unless the request carries the admin bearer token (503 if none is set, 429
    after too many wrong ones from this client)."""
    configured = settings.admin_token
    if configured is None:
        raise ApiError(
            503,
            "admin_disabled",
            "no admin token is configured on this server; set DIGITS_ADMIN_TOKEN, or start it "
            "with `digits serve`, which prints one",
        )
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not given.strip():
        raise _unauthorized(
            "unauthorized",
            "this endpoint needs the admin token: send 'Authorization: Bearer <token>'",
            'Bearer realm="digits admin"',
        )
    # Every bearer token is counted as a failure before it is compared, and the count is taken
    # back if it was right: a burst of parallel guesses cannot all be compared before any counts.
    failures: RateLimiter = request.app.state.admin_failures
    client = client_key(request)
    wait = failures.check(client)
    if wait is not None:
        request.app.state.metrics.refused.labels("admin_rate_limited").inc()
        message = f"too many wrong admin tokens from this client ({failures.limit} a minute)"
        raise too_many("admin_rate_limited", message, wait)
    expected = configured.get_secret_value().encode()
    if not hmac.compare_digest(given.strip().encode(), expected):
        raise _unauthorized(
            "invalid_token",
            "the admin token is not correct",
            'Bearer realm="digits admin", error="invalid_token"',
        )
    failures.refund(client)


AdminDep = Annotated[None, Depends(require_admin)]
