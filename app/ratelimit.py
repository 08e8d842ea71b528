"""Per-client rate limits, in memory: feedback posts, and failed admin logins.

A client is keyed by its address as the server sees it (``request.client.host``; X-Forwarded-For
is believed only from the proxies in ``DIGITS_TRUSTED_PROXIES``, so a client cannot pick another
client's key). Keys are never written anywhere. Limits are kept per server process: with N
workers, one client can get up to N times the limit, which still bounds a guessing attack. With
replicas sharing a database, ``app/db/limits.py`` counts the same limits across all of them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

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
    """At most ``limit`` events per client in any ``window`` seconds (a limit of 0 = no limit)."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> float | None:
        """Count one event for client; None if allowed, else seconds until one would be.

        Checking and counting happen under one lock, so concurrent requests cannot all slip
        in under the limit before any of them is counted.
        """
        if self.limit <= 0:
            return None
        moment = self.clock()
        with self._lock:
            events = self._events.get(client)
            if events is None:
                if len(self._events) >= self.max_clients:
                    self._forget_idle(moment)
                events = self._events[client] = deque()
            while events and moment - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.limit:
                return self.window - (moment - events[0])
            events.append(moment)
            return None

    def refund(self, client: str) -> None:
        """Take back the client's latest event (one that turned out not to count)."""
        with self._lock:
            events = self._events.get(client)
            if events:
                events.pop()

    def _forget_idle(self, moment: float) -> None:
        for key in [k for k, v in self._events.items() if not v or moment - v[-1] >= self.window]:
            del self._events[key]
