"""The record of every training job, on disk under ``<home>/jobs/``, and the one-job lock.

- ``<id>.json``: the job record (status, config, per-epoch history, result, reason), replaced
  atomically on every change, so job history survives restarts.
- ``<id>.events``: one JSON line per progress or status event, appended by the job; the
  ``/events`` stream tails it.
- ``<id>.log``: the job process's own output (tracebacks of a failed job end up here).
- ``LOCK``: held (``flock``) by the running job process. Whoever takes it may start a job, so
  across every worker of a server exactly one job runs. The kernel releases it when the process
  exits, however it exits (SIGKILL included).
- ``CURRENT``: the id of the job that last took the lock (for the 409 on a second request).
- ``FINISH``: held while a final status is written, so the first ending of a job stands.

Who writes a record: the server that accepts a request writes it ``queued`` (``claim``); from
then on only the job process writes it (holding the lock through ``hold``), until it ends. A job
that ended without saying so (killed, or the server died) is marked by ``reconcile``, which only
touches jobs that can no longer be running: when the lock is free, or when another job is the
current one.

The same interface over PostgreSQL, for replicas on several hosts, is ``app/db/jobs.py``: there
the lock is a lease that the job's process renews.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from model.atomic import atomic_write
from model.filelock import exclusive

# A job's statuses: queued and running while it lives, then exactly one of the final ones.
ACTIVE = frozenset({"queued", "running"})
FINAL = frozenset({"succeeded", "rejected", "failed", "cancelled", "interrupted"})
# The phase of a job that first fetches MNIST, on a data home without it.
FETCHING = "fetching MNIST"
JOB_ID = re.compile(r"^j-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def final_event(record: dict) -> dict:
    """The event that ends a job's stream: how it ended, its result, and the notes the run
    made on the way (a short run's smaller batches, drawings it could not read…)."""
    return {
        "kind": "status",
        "status": record["status"],
        "reason": record.get("reason"),
        "result": record.get("result"),
        "notes": record.get("notes", []),
    }


class JobNotFound(KeyError):
    pass


class JobBusy(RuntimeError):
    """Another job holds the lock."""

    def __init__(self, job_id: str | None):
        super().__init__(f"job {job_id} is running")
        self.job_id = job_id


@dataclass
class Claim:
    """The one-job lock, taken for a new job by the server that starts it, to be handed to the
    job's process: ``args`` go on its command line, ``pass_fds`` stay open in it."""

    args: list[str] = field(default_factory=list)
    pass_fds: tuple[int, ...] = ()
    close: Callable[[], None] = lambda: None  # the server's own copy, once the child has it


@dataclass
class Held:
    """The lock as the job's process holds it. ``lost`` turns true if a shared store's lease
    was taken away (the job must then not promote anything)."""

    lost: bool = False


_DIED = "the training process ended without reporting a result"

# The job locks this process holds (``JobStore.hold``). A forked helper (the augmentation worker)
# closes them, so that it cannot keep a job's lock alive if this process is killed. One handler
# for the life of the process, and only for the locks held at the fork: a descriptor let go is
# soon another file's (a pool's pipe, say), which a later child must not close.
_held_locks: set[int] = set()


def _close_held_locks_in_child() -> None:
    for fd in _held_locks:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_locks.clear()


os.register_at_fork(after_in_child=_close_held_locks_in_child)


class JobStore:
    """Job records and event files under ``<home>/jobs``."""

    def __init__(self, home: Path):
        self.dir = Path(home) / "jobs"
        self.lock_file = self.dir / "LOCK"
        self.current_file = self.dir / "CURRENT"

    def _path(self, job_id: str, suffix: str) -> Path:
        if not JOB_ID.match(job_id):
            raise JobNotFound(job_id)
        return self.dir / f"{job_id}{suffix}"

    def record_path(self, job_id: str) -> Path:
        return self._path(job_id, ".json")

    def events_path(self, job_id: str) -> Path:
        return self._path(job_id, ".events")

    def log_path(self, job_id: str) -> Path:
        return self._path(job_id, ".log")

    def read(self, job_id: str) -> dict:
        try:
            return json.loads(self.record_path(job_id).read_text())
        except FileNotFoundError:
            raise JobNotFound(job_id) from None

    def write(self, record: dict) -> None:
        text = json.dumps(record, indent=1).encode()
        atomic_write(self.record_path(record["id"]), lambda f: f.write(text))

    def append_event(self, job_id: str, event: dict) -> None:
        with open(self.events_path(job_id), "a", encoding="utf-8") as f:
            f.write(json.dumps(event, separators=(",", ":")) + "\n")

    def ids(self) -> list[str]:
        """Every job id, newest first (ids sort by their creation time)."""
        if not self.dir.is_dir():
            return []
        ids = [p.stem for p in self.dir.glob("j-*.json") if JOB_ID.match(p.stem)]
        return sorted(ids, reverse=True)

    def records(self, limit: int | None = None) -> list[dict]:
        result = []
        for job_id in self.ids():
            with contextlib.suppress(JobNotFound, ValueError):
                result.append(self.read(job_id))
            if limit is not None and len(result) >= limit:
                break
        return result

    def current(self) -> str | None:
        try:
            return self.current_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def running_id(self) -> str | None:
        """The id of the job holding the lock. A job that has just taken it names itself in
        CURRENT a moment later, so wait (briefly) for CURRENT to name an unfinished job."""
        current = None
        for _ in range(40):
            current = self.current()
            with contextlib.suppress(JobNotFound):
                if current and self.read(current).get("status") in ACTIVE:
                    return current
            time.sleep(0.025)
        return current

    def read_events(self, job_id: str, offset: int) -> tuple[list[dict], int]:
        """Whole event lines from byte ``offset`` on, and the offset after the last whole line."""
        try:
            with open(self.events_path(job_id), "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return [], offset
        end = data.rfind(b"\n") + 1  # a line being written is read next time
        events = []
        for line in data[:end].splitlines():
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
        return events, offset + end

    # -- the lock

    def claim(self, record: dict) -> Claim:
        """Take the lock for a new job: tidy jobs that died, make it the current one and write
        its record ``queued``. Raises JobBusy with the running job's id."""
        fd = self.try_lock()
        deadline = time.monotonic() + 2.0
        while fd is None:
            # A job that has just ended lets go of the lock a moment after it says so; a job
            # that has just started names itself in CURRENT a moment after taking it.
            current = self.current()
            status = None
            with contextlib.suppress(JobNotFound):
                status = current and self.read(current).get("status")
            if status in ACTIVE or time.monotonic() > deadline:
                raise JobBusy(self.running_id())
            time.sleep(0.05)
            fd = self.try_lock()
        try:
            # With the lock held nothing else is running: tidy up jobs that died unannounced.
            for old in self.records():
                if old.get("status") in ACTIVE:
                    self.finish(old, "interrupted", _DIED)
            atomic_write(self.current_file, lambda f: f.write(record["id"].encode()))
            self.write(record)
            self.append_event(record["id"], {"kind": "status", "status": "queued"})
        except BaseException:
            os.close(fd)
            raise
        return Claim(args=[str(fd)], pass_fds=(fd,), close=lambda: os.close(fd))

    @contextlib.contextmanager
    def hold(self, job_id: str, args: list[str], **_) -> Iterator[Held]:
        """In the job's process: keep the lock passed in ``args`` (an open descriptor) until the
        block ends, then let it go, so the next job may start before this process exits."""
        fd = int(args[0])
        _held_locks.add(fd)  # only this process holds it, not its forked helpers
        try:
            yield Held()
        finally:
            _held_locks.discard(fd)
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)

    def request_cancel(self, job_id: str) -> None:
        """Ask the job to cancel itself (``<id>.cancel``): for a job whose process has not yet
        said who it is, so that it cannot be sent the signal."""
        self._path(job_id, ".cancel").touch()

    def cancel_requested(self, job_id: str) -> bool:
        return self._path(job_id, ".cancel").exists()

    def try_lock(self) -> int | None:
        """An fd holding the job lock, or None if a job holds it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def finish(self, record: dict, status: str, reason: str, **fields) -> dict:
        """Write a final status on a record and announce it on its event stream (nothing, if
        the stored record has already ended: as with PostgreSQL, the first ending stands, so a
        job's reaper and another worker's reconcile cannot both end it)."""
        record.update(status=status, reason=reason, finished=now(), phase=None, **fields)
        # FINISH is held while the record is read, checked and written, by every process.
        with exclusive(self.dir / "FINISH"):
            with contextlib.suppress(JobNotFound, ValueError):
                if self.read(record["id"]).get("status") in FINAL:
                    return record
            self.write(record)
            self.append_event(record["id"], final_event(record))
        return record

    def reconcile(
        self, status: str = "interrupted", reason: str | None = None, skip: Collection[str] = ()
    ) -> list[str]:
        """Mark jobs that say queued/running but whose process is gone, except those in
        ``skip`` (jobs whose own server will record how they ended). Returns their ids."""
        records = [r for r in self.records() if r.get("status") in ACTIVE and r["id"] not in skip]
        if not records:
            return []
        fd = self.try_lock()
        if fd is None:
            # A job holds the lock: it is the current one; any other unfinished job is dead.
            current = self.current()  # read after the records: a new job writes CURRENT first
            records = [r for r in records if r["id"] != current]
        try:
            marked = []
            for record in records:
                # Read again now that who holds the lock is known: a job that ended between the
                # first read and the lock has written its final record before letting go of it.
                with contextlib.suppress(JobNotFound, ValueError):
                    record = self.read(record["id"])
                if record.get("status") not in ACTIVE:
                    continue
                why = reason or f"{_DIED} (the server stopped or the process was killed)"
                self.finish(record, status, why)
                marked.append(record["id"])
            return marked
        finally:
            if fd is not None:
                os.close(fd)
