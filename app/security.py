"""The admin dependency: every ``/api/admin/*`` route needs ``Authorization: Bearer <token>``.

The token comes from ``Settings.admin_token`` (``DIGITS_ADMIN_TOKEN``; ``digits serve`` makes a
random one when it is unset). It is compared in constant time and never logged or echoed. An app
that has no token configured refuses every admin request with 503 rather than being open.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from app.deps import SettingsDep
from app.errors import ApiError


def _unauthorized(code: str, message: str, challenge: str) -> ApiError:
    error = ApiError(401, code, message)
    error.headers = {"WWW-Authenticate": challenge}
    return error


def require_admin(request: Request, settings: SettingsDep) -> None:
    """Raise 401 unless the request carries the admin bearer token (503 if none is set)."""
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
    expected = configured.get_secret_value().encode()
    if not hmac.compare_digest(given.strip().encode(), expected):
        raise _unauthorized(
            "invalid_token",
            "the admin token is not correct",
            'Bearer realm="digits admin", error="invalid_token"',
        )


AdminDep = Annotated[None, Depends(require_admin)]
