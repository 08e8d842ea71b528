"""Training jobs in PostgreSQL: records, their events, and the one-job lease, for every host.

The same interface as ``app.jobs.store.JobStore`` (files in one data home); the differences are
how the one-job lock works and who may mark a dead job:

- **The lease.** ``claim`` takes the ``job_lease`` row for a new job, in the same transaction
  (under an advisory lock) as it writes the record ``queued``: of two replicas asked at once,
  one gets the lease and the other ``JobBusy``. The job's own process renews the lease every
  fifth of ``lease_seconds`` (``hold``), from a thread of its own, and gives it up in the same
  transaction as it writes how it ended.
- **A dead job** is one still marked queued or running whose lease has expired: its process was
  killed, or its host died or lost the network. ``reconcile``, run by any replica whenever jobs
  are listed, read or started, marks it ``interrupted``.
- **Fenced writes.** A record is only updated while its stored status is queued or running, so a
  job process that comes back after it was marked interrupted cannot overwrite that. Before it
  promotes, a job checks that it still holds its lease.
- **Cancelling across hosts.** ``request_cancel`` sets a flag on the job; its process sees it at
  its next renewal and cancels itself as if it had been sent the signal.

A job's log (its process's output) stays in the data home of the host that ran it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from psycopg.types.json import Jsonb

from app.db import DatabaseUnavailable
from app.db.connection import Database
from app.jobs.store import ACTIVE, JOB_ID, Claim, Held, JobBusy, JobNotFound, final_event, now

log = logging.getLogger(__name__)

# The job store's ACTIVE statuses as an SQL list: ('queued', 'running').
_ACTIVE_SQL = "({})".format(", ".join(f"'{status}'" for status in sorted(ACTIVE)))
_LEASE_EXPIRED = (
    "the training process stopped renewing its lease (its process was killed, or its host "
    "stopped or lost the network) and the lease expired"
)


def _checked(job_id: str) -> str:
    if not JOB_ID.match(job_id):
        raise JobNotFound(job_id)
    return job_id


class PgJobStore:
    """Job records, events and the lease in the shared database; logs under ``<home>/jobs``."""

    def __init__(self, db: Database, home: Path, lease_seconds: float = 15.0):
        self.db = db
        self.dir = Path(home) / "jobs"
        self.lease_seconds = lease_seconds

    def log_path(self, job_id: str) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        return self.dir / f"{_checked(job_id)}.log"

    # -- records and events

    def read(self, job_id: str) -> dict:
        with self.db.connection() as connection:
            row = connection.execute(
                "SELECT record FROM jobs WHERE id = %s", (_checked(job_id),)
            ).fetchone()
        if row is None:
            raise JobNotFound(job_id)
        return row[0]

    def write(self, record: dict) -> bool:
        """Store the record, unless the stored one has ended; True if it was written."""
        with self.db.connection() as connection:
            cursor = connection.execute(
                "INSERT INTO jobs (id, status, record) VALUES (%s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, "
                f"record = EXCLUDED.record WHERE jobs.status IN {_ACTIVE_SQL}",
                (_checked(record["id"]), record["status"], Jsonb(record)),
            )
        return cursor.rowcount == 1

    def append_event(self, job_id: str, event: dict) -> None:
        with self.db.connection() as connection:
            connection.execute(
                "INSERT INTO job_events (job_id, event) VALUES (%s, %s)",
                (_checked(job_id), Jsonb(event)),
            )

    def ids(self) -> list[str]:
        """Every job id, newest first (ids sort by their creation time)."""
        with self.db.connection() as connection:
            rows = connection.execute("SELECT id FROM jobs ORDER BY id DESC").fetchall()
        return [r[0] for r in rows]

    def records(self, limit: int | None = None) -> list[dict]:
        with self.db.connection() as connection:
            rows = connection.execute(
                "SELECT record FROM jobs ORDER BY id DESC LIMIT %s", (limit,)
            ).fetchall()
        return [r[0] for r in rows]

    def read_events(self, job_id: str, offset: int) -> tuple[list[dict], int]:
        """The job's events after ``offset`` (a position this store gave), and the next one."""
        with self.db.connection() as connection:
            rows = connection.execute(
                "SELECT seq, event FROM job_events WHERE job_id = %s AND seq > %s ORDER BY seq",
                (_checked(job_id), offset),
            ).fetchall()
        return [r[1] for r in rows], (rows[-1][0] if rows else offset)

    def finish(self, record: dict, status: str, reason: str, **fields) -> dict:
        """Write a final status on a record, announce it on its event stream and give up its
        lease, in one transaction (nothing, if the stored record has already ended)."""
        record.update(status=status, reason=reason, finished=now(), phase=None, **fields)
        with self.db.transaction():
            if self.write(record):
                self.append_event(record["id"], final_event(record))
            with self.db.connection() as connection:
                connection.execute("DELETE FROM job_lease WHERE job_id = %s", (record["id"],))
        return record

    # -- the lease

    def current(self) -> str | None:
        """The job holding a live lease, if any."""
        with self.db.connection() as connection:
            row = connection.execute(
                "SELECT job_id FROM job_lease WHERE expires > now()"
            ).fetchone()
        return row and row[0]

    def claim(self, record: dict) -> Claim:
        """Take the lease for a new job and write its record ``queued``, or raise JobBusy."""
        with self.db.transaction(lock="jobs") as connection:
            self._mark_dead(connection, "interrupted", None)
            row = connection.execute("SELECT job_id FROM job_lease").fetchone()
            if row is not None:
                raise JobBusy(row[0])
            self.write(record)
            self.append_event(record["id"], {"kind": "status", "status": "queued"})
            connection.execute(
                "INSERT INTO job_lease (job_id, holder, expires) "
                "VALUES (%s, %s, now() + make_interval(secs => %s))",
                (record["id"], f"{socket.gethostname()}:{os.getpid()}", self.lease_seconds),
            )
        return Claim()

    @contextlib.contextmanager
    def hold(
        self,
        job_id: str,
        args: list[str],
        on_cancel: Callable[[], None] = lambda: None,
        on_lost: Callable[[], None] = lambda: None,
    ) -> Iterator[Held]:
        """In the job's process: renew the lease until the block ends, then give it up. Calls
        ``on_cancel()`` once if a cancel is requested, ``on_lost()`` if the lease was taken
        away (both from the renewing thread)."""
        held, stop = Held(), threading.Event()
        holder = f"{socket.gethostname()}:{os.getpid()}"
        state = {"cancelled": False}

        def renew() -> None:
            try:
                with self.db.connection() as connection:
                    row = connection.execute(
                        "UPDATE job_lease SET expires = now() + make_interval(secs => %s), "
                        "holder = %s WHERE job_id = %s "
                        "RETURNING (SELECT cancel_requested FROM jobs WHERE id = %s)",
                        (self.lease_seconds, holder, job_id, job_id),
                    ).fetchone()
            except DatabaseUnavailable as e:
                log.warning("job %s: could not renew its lease (%s); retrying", job_id, e)
                return
            if row is None:
                held.lost = True
                stop.set()
                on_lost()
            elif row[0] and not state["cancelled"]:
                state["cancelled"] = True
                on_cancel()

        def beat() -> None:
            while not stop.wait(self.lease_seconds / 5):
                renew()

        renew()
        thread = threading.Thread(target=beat, name=f"lease-{job_id}", daemon=True)
        thread.start()
        try:
            yield held
        finally:
            stop.set()
            with contextlib.suppress(DatabaseUnavailable), self.db.connection() as connection:
                connection.execute("DELETE FROM job_lease WHERE job_id = %s", (job_id,))

    def request_cancel(self, job_id: str) -> None:
        """Ask the job's process, wherever it runs, to cancel itself."""
        with self.db.connection() as connection:
            connection.execute(
                "UPDATE jobs SET cancel_requested = TRUE WHERE id = %s", (_checked(job_id),)
            )

    def cancel_requested(self, job_id: str) -> bool:
        with self.db.connection() as connection:
            row = connection.execute(
                "SELECT cancel_requested FROM jobs WHERE id = %s", (_checked(job_id),)
            ).fetchone()
        return bool(row and row[0])

    def reconcile(
        self, status: str = "interrupted", reason: str | None = None, skip: Collection[str] = ()
    ) -> list[str]:
        """Mark jobs still queued or running whose lease has expired, except those in ``skip``.
        Returns their ids."""
        with self.db.connection() as connection:
            dead = connection.execute(self._DEAD).fetchone()
        if dead is None:  # the common case, answered without taking any lock
            return []
        with self.db.transaction(lock="jobs") as connection:
            return self._mark_dead(connection, status, reason, skip)

    _DEAD = (
        f"SELECT j.record FROM jobs j WHERE j.status IN {_ACTIVE_SQL} AND NOT EXISTS ("
        "SELECT 1 FROM job_lease l WHERE l.job_id = j.id AND l.expires > now()) ORDER BY j.id"
    )

    def _mark_dead(
        self, connection, status: str, reason: str | None, skip: Collection[str] = ()
    ) -> list[str]:
        marked = []
        for (record,) in connection.execute(self._DEAD).fetchall():
            if record["id"] in skip:
                continue
            self.finish(record, status, reason or _LEASE_EXPIRED)
            marked.append(record["id"])
        connection.execute("DELETE FROM job_lease WHERE expires <= now()")
        return marked
