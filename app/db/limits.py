"""Per-client rate limits counted in PostgreSQL, so that every replica counts against one limit.

The same rule as ``app.ratelimit.RateLimiter`` (at most ``limit`` events per client in any
``window`` seconds, checked and counted in one step), with the events as rows of
``rate_events``. One check is one transaction holding a lock on its (limiter, client) key, so
concurrent requests to different hosts cannot all slip in under the limit before any of them is
counted. Times are the database's clock, one clock for every host. A client's address is kept
as a hash, and only while it counts: its old rows go at its next check, and every
``SWEEP_EVERY`` checks those of clients that stopped coming go too.
"""

from __future__ import annotations

import hashlib
import itertools

from app.db.connection import Database

SWEEP_EVERY = 200  # checks between removals of every expired row


class PgRateLimiter:
    """``limit`` events per client per ``window`` seconds, for all replicas (0 = no limit)."""

    def __init__(self, db: Database, name: str, limit: int, window: float = 60.0):
        self.db = db
        self.name = name
        self.limit = limit
        self.window = window
        self._checks = itertools.count(1)

    def check(self, client: str) -> float | None:
        """Count one event for client; None if allowed, else seconds until one would be."""
        if self.limit <= 0:
            return None
        client = _key(client)
        with self.db.transaction() as connection:
            connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{self.name}/{client}",)
            )
            window = "make_interval(secs => %s)"
            connection.execute(
                f"DELETE FROM rate_events WHERE limiter = %s AND client = %s "
                f"AND at <= clock_timestamp() - {window}",
                (self.name, client, self.window),
            )
            count, oldest_age = connection.execute(
                "SELECT COUNT(*), EXTRACT(EPOCH FROM clock_timestamp() - MIN(at)) "
                "FROM rate_events WHERE limiter = %s AND client = %s",
                (self.name, client),
            ).fetchone()
            if count >= self.limit:
                return max(0.0, self.window - float(oldest_age))
            connection.execute(
                "INSERT INTO rate_events (limiter, client) VALUES (%s, %s)", (self.name, client)
            )
            if next(self._checks) % SWEEP_EVERY == 0:
                connection.execute(
                    f"DELETE FROM rate_events WHERE limiter = %s AND at <= clock_timestamp() "
                    f"- {window}",
                    (self.name, self.window),
                )
        return None

    def refund(self, client: str) -> None:
        """Take back the client's latest event (one that turned out not to count)."""
        with self.db.connection() as connection:
            connection.execute(
                "DELETE FROM rate_events WHERE id = (SELECT id FROM rate_events WHERE limiter = %s "
                "AND client = %s ORDER BY id DESC LIMIT 1)",
                (self.name, _key(client)),
            )


def _key(client: str) -> str:
    """What is stored for a client: not its address, a hash of it."""
    return hashlib.sha256(client.encode()).hexdigest()[:32]
