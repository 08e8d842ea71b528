"""One process's way to PostgreSQL: a small pool, transactions, LISTEN, and "is it reachable?".

- ``Database.transaction()`` is one transaction on a pooled connection, committed when the block
  ends and rolled back if it raises. Inside it, every ``connection()`` of the same thread is that
  same connection, so a store's steps (the registry's lock, then its writes) share it.
- Every error that means "the database cannot be reached" (refused, reset, a pool with no
  connection to give within ``timeout``) becomes ``DatabaseUnavailable``, which the app answers
  with 503. After one, calls fail at once for ``BACKOFF_SECONDS`` instead of each waiting out the
  timeout: a replica whose database is down keeps its threads for predictions.
- ``listen(channel, callback)`` runs a thread on a dedicated connection that calls
  ``callback()`` for each NOTIFY, and once more after every reconnection (a notice sent while it
  was away is lost, so a listener must then look for itself).
- Advisory lock keys are fixed numbers, named in ``LOCKS``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from app.db import DatabaseUnavailable

log = logging.getLogger(__name__)

# After a failure to reach the database, how long every call fails at once without trying.
BACKOFF_SECONDS = 1.0
# pg_advisory_xact_lock keys: one per thing that must happen once at a time across all hosts.
LOCKS = {"migrations": 7_261_001, "registry": 7_261_002, "jobs": 7_261_003}
_UNREACHABLE = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)


class Database:
    """A connection pool to ``url`` for one process (each server worker and job has its own)."""

    def __init__(self, url: str, *, max_size: int = 4, timeout: float = 5.0, name: str = "digits"):
        self.url = url
        self.timeout = timeout
        self._connect_args = {"connect_timeout": max(1, round(timeout)), "application_name": name}
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            timeout=timeout,
            open=False,
            kwargs={"autocommit": True, **self._connect_args},
            check=ConnectionPool.check_connection,  # a connection the server dropped is replaced
            reconnect_timeout=24 * 3600.0,  # keep trying to refill the pool through an outage
            name=name,
        )
        self._opened = False
        self._open_lock = threading.Lock()
        self._down_until = 0.0
        self._local = threading.local()
        self._ping_lock = threading.Lock()
        self._pinging: concurrent.futures.Future | None = None

    # -- connections

    def _open(self) -> None:
        with self._open_lock:
            if not self._opened:
                self.pool.open(wait=False)  # connections are made in the background
                self._opened = True

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection in autocommit mode (each statement its own transaction), or the one of
        the transaction this thread is in. Raises DatabaseUnavailable."""
        current = getattr(self._local, "connection", None)
        if current is not None:
            yield current
            return
        with self._reachable(), self.pool.connection() as connection:
            yield connection

    @contextlib.contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[psycopg.Connection]:
        """One transaction, holding the advisory lock ``LOCKS[lock]`` until it ends (other
        hosts wait for it). Nested calls in the same thread join the outer transaction."""
        if getattr(self._local, "connection", None) is not None:
            with self.connection() as connection:
                if lock:
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (LOCKS[lock],))
                yield connection
            return
        with self._reachable(), self.pool.connection() as connection, connection.transaction():
            if lock:
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (LOCKS[lock],))
            self._local.connection = connection
            try:
                yield connection
            finally:
                self._local.connection = None

    @contextlib.contextmanager
    def _reachable(self) -> Iterator[None]:
        if time.monotonic() < self._down_until:
            raise DatabaseUnavailable("the database was unreachable a moment ago; retry shortly")
        self._open()
        try:
            yield
        except psycopg.errors.TransactionRollback:
            raise  # a deadlock or a serialisation failure is a bug to see, not an outage
        except _UNREACHABLE as e:
            self._down_until = time.monotonic() + BACKOFF_SECONDS
            raise DatabaseUnavailable(f"the database cannot be reached: {_first_line(e)}") from e

    def ping(self, within: float) -> None:
        """One round trip, waited for at most ``within`` seconds; raises DatabaseUnavailable if
        the database does not answer in time. A database that stops answering (a frozen host)
        would hold the call as long as TCP lets it: the round trip runs on a thread of its own,
        and while one is still waiting the next ping fails at once, so a readiness probe asked
        every few seconds holds one thread, not all."""
        with self._ping_lock:
            if self._pinging is not None and not self._pinging.done():
                raise DatabaseUnavailable("the database has not answered the last check yet")
            self._pinging = pinging = concurrent.futures.Future()
        # A daemon thread, not an executor's: those are joined at exit, and a ping stuck on a
        # frozen database would hold the process after Ctrl+C until the database woke up.
        threading.Thread(target=self._answer, args=(pinging,), name="db-ping", daemon=True).start()
        try:
            pinging.result(timeout=within)
        except concurrent.futures.TimeoutError:
            raise DatabaseUnavailable(f"the database did not answer within {within:g} s") from None

    def _answer(self, pinging: concurrent.futures.Future) -> None:
        try:
            self._round_trip()
        except BaseException as e:  # handed to the waiting caller, whatever it is
            pinging.set_exception(e)
        else:
            pinging.set_result(None)

    def _round_trip(self) -> None:
        """SELECT 1 through the pool, as requests go: ready means they can be answered (a
        connection of its own said "ready" while the pool was still reconnecting)."""
        with self.connection() as connection:
            connection.execute("SELECT 1")

    def connect(self, **options) -> psycopg.Connection:
        """A connection of its own, outside the pool (a listener, a job's lease). Raises
        DatabaseUnavailable."""
        try:
            return psycopg.connect(self.url, autocommit=True, **self._connect_args, **options)
        except _UNREACHABLE as e:
            raise DatabaseUnavailable(f"the database cannot be reached: {_first_line(e)}") from e

    def close(self) -> None:
        if self._opened:
            self.pool.close()
            self._opened = False

    # -- notifications

    def notify(self, connection: psycopg.Connection, channel: str, payload: str = "") -> None:
        """Send a notice on channel; inside a transaction it goes out when that commits."""
        connection.execute("SELECT pg_notify(%s, %s)", (channel, payload))

    def listen(self, channel: str, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` on every notice on ``channel`` (and after each reconnection),
        from a thread of its own; returns the function that stops it."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self._listen,
            args=(channel, callback, stop),
            name=f"listen-{channel}",
            daemon=True,
        )
        thread.start()
        return stop.set

    def _listen(self, channel: str, callback: Callable[[], None], stop: threading.Event) -> None:
        wait = 0.5
        while not stop.is_set():
            try:
                with self.connect() as connection:
                    connection.execute(f"LISTEN {channel}")  # a fixed name, never user input
                    wait = 0.5
                    callback()  # anything sent while no one listened
                    while not stop.is_set():
                        for _ in connection.notifies(timeout=1.0):
                            callback()
            except (DatabaseUnavailable, *_UNREACHABLE) as e:
                log.warning(
                    "listening on %s: %s; retrying in %.1f s", channel, _first_line(e), wait
                )
            except Exception:  # the listener must outlive anything one notice does
                log.exception("listening on %s failed; retrying", channel)
            stop.wait(wait)
            wait = min(wait * 2, 10.0)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
