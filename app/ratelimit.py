"""Per-client rate limits, in memory: feedback posts, and failed admin logins.

A client is keyed by its address as the server sees it (``request.client.host``; the server runs
with ``proxy_headers=False``, so a forwarded-for header cannot pick another client's key). Keys
are never written anywhere. Limits are kept per server process: with N workers, one client can
get up to N times the limit, which still bounds a guessing attack.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from fastapi import Request

from app.errors import ApiError


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def too_many(code: str, message: str, wait: float) -> ApiError:
    """A 429 ApiError whose Retry-After is wait, rounded up to whole seconds (at least 1)."""
    seconds = max(1, math.ceil(wait))
    error = ApiError(429, code, f"{message}; try again in {seconds} s")
    error.headers = {"Retry-After": str(seconds)}
    return error


class RateLimiter:
    """At most ``per_minute`` events per client in any ``window`` seconds (0 = no limit)."""

    def __init__(self, per_minute: int, window: float = 60.0, max_clients: int = 10_000):
        self.per_minute = per_minute
        self.window = window
        self.max_clients = max_clients
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> float | None:
        """Count one event for client; None if allowed, else seconds until it would be."""
        return self._wait(client, count=True)

    def wait(self, client: str) -> float | None:
        """Like check, but counts nothing: None if the client may act now, else seconds to wait."""
        return self._wait(client, count=False)

    def _wait(self, client: str, count: bool) -> float | None:
        if self.per_minute <= 0:
            return None
        moment = time.monotonic()
        with self._lock:
            events = self._events.get(client)
            if events is None:
                if not count:
                    return None
                if len(self._events) >= self.max_clients:
                    self._forget_idle(moment)
                events = self._events[client] = deque()
            while events and moment - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.per_minute:
                return self.window - (moment - events[0])
            if count:
                events.append(moment)
            return None

    def _forget_idle(self, moment: float) -> None:
        for key in [k for k, v in self._events.items() if not v or moment - v[-1] >= self.window]:
            del self._events[key]
