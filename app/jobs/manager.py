"""Starting, cancelling and reaping training jobs, from a server process.

A job runs as its own OS process (``python -m app.jobs.process``; see that module), so that a
server worker only starts it, signals it and waits for it. ``start`` takes the job lock
(``JobStore.claim``), which writes the record ``queued``, and hands the lock to the child, which
holds it until it ends: a second request, on this worker or another (or, with a shared
database, on another host), finds the lock taken and gets ``JobBusy``. ``cancel`` sends the
child SIGUSR1 (it ends ``cancelled``), or, for a job running on another host, asks it through the
shared store; shutting the server down sends SIGTERM (``interrupted``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from app.db import DatabaseUnavailable
from app.jobs.store import ACTIVE, JobNotFound, JobStore

log = logging.getLogger(__name__)

CANCEL_SIGNAL = signal.SIGUSR1
STOP_SIGNAL = signal.SIGTERM
JOB_MODULE = "app.jobs.process"  # what the job process runs, and how it is recognised
ROOT = Path(__file__).resolve().parents[2]
HOST = socket.gethostname()


class JobFinished(RuntimeError):
    """The job has already ended, so it cannot be cancelled."""


class JobManager:
    """Starts, cancels and reconciles jobs for one server process."""

    def __init__(
        self,
        home: Path,
        gate_tolerance_pp: float,
        timeout_seconds: float,
        store: JobStore | None = None,
        child_env: Mapping[str, str | None] | None = None,
    ):
        self.home = Path(home)
        self.store = store if store is not None else JobStore(home)
        self.gate_tolerance_pp = gate_tolerance_pp
        self.timeout_seconds = timeout_seconds
        # Added to a job process's environment (a value of None removes the variable): how it
        # finds the stores this server uses.
        self.child_env = dict(child_env or {})
        self._children: dict[str, subprocess.Popen] = {}
        self._guard = threading.Lock()

    def start(self, request: dict, train_config: dict) -> dict:
        """Start a job, or raise JobBusy with the running job's id."""
        created = datetime.now(UTC)
        job_id = f"j-{created:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        record = {
            "id": job_id,
            "status": "queued",
            "created": created.isoformat(timespec="seconds"),
            "started": None,
            "finished": None,
            "request": request,
            "config": train_config,
            "gate_tolerance_pp": self.gate_tolerance_pp,
            "force": bool(request.get("force")),
            "phase": "queued",
            "progress": None,
            "history": [],
            "result": None,
            "reason": None,
            "pid": None,
            "host": HOST,
            "notes": [],
        }
        claim = self.store.claim(record)  # raises JobBusy
        try:
            arguments = [str(self.home), job_id, str(self.timeout_seconds), *claim.args]
            command = [sys.executable, "-m", JOB_MODULE, *arguments]
            with open(self.store.log_path(job_id), "ab") as out:
                child = self._spawn(record, command, claim.pass_fds, out)
        finally:
            claim.close()  # the child holds the lock now (or nobody does, if it failed to start)
        with self._guard:
            self._children[job_id] = child
        log.info("job %s started (process %d)", job_id, child.pid)
        threading.Thread(target=self._reap, args=(job_id, child), daemon=True).start()
        return record

    def _spawn(self, record: dict, command: list[str], fds, out) -> subprocess.Popen:
        env = {**os.environ}
        for name, value in self.child_env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        try:
            return subprocess.Popen(
                command,
                cwd=ROOT,
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        except OSError as e:
            self.store.finish(record, "failed", f"could not start the training process: {e}")
            raise

    def _reap(self, job_id: str, child: subprocess.Popen) -> None:
        """Wait for a job process (no zombies) and record its end if it could not. The job
        stays among this process's children until then, so that ``reconcile`` leaves it to
        this, which knows how it ended (the signal that killed it, or its exit code)."""
        code = child.wait()
        try:
            record = self.store.read(job_id)
            if record.get("status") in ACTIVE:
                if code < 0:
                    why = f"the training process was killed by {signal.Signals(-code).name}"
                else:
                    why = f"the training process exited with code {code}; see jobs/{job_id}.log"
                self.store.finish(record, "failed", why)
                log.error("job %s failed: %s", job_id, why)
            else:
                status, reason = record["status"], record.get("reason") or ""
                # A success's reason says "promoted …", and a rejection's begins "rejected:".
                if status != "succeeded" and not reason.startswith(status):
                    reason = f"{status}: {reason}" if reason else status
                log.info("job %s ended: %s", job_id, reason)
        except (JobNotFound, DatabaseUnavailable):
            pass  # a shared store's lease runs out instead, and the job is marked then
        finally:
            with self._guard:
                self._children.pop(job_id, None)

    def reconcile(self) -> list[str]:
        """Mark the jobs whose process is gone (``store.reconcile``), except this process's own
        children: each is recorded by its reaper, with how it ended."""
        with self._guard:
            own = set(self._children)
        return self.store.reconcile(skip=own)

    def cancel(self, job_id: str) -> dict:
        """Stop a queued or running job: a signal to its process when it runs on this host,
        and in any case a request through the store, which the job checks as it starts (and,
        with a shared database, at every lease renewal). The two cover each other: a job that
        had not written its pid yet when it was looked up sees the request, and a request
        made too late for it to see finds its pid."""
        record = self.store.read(job_id)
        if record.get("status") not in ACTIVE:
            raise JobFinished(f"job {job_id} has already ended ({record.get('status')})")
        if self._signal(record):
            return record
        self.store.request_cancel(job_id)
        record = self.store.read(job_id)
        if record.get("status") in ACTIVE and not self._signal(record):
            self.reconcile()  # a job whose process is gone is marked now
            record = self.store.read(job_id)
        return record

    def _signal(self, record: dict) -> bool:
        """Send the cancel signal to the job's process if it runs on this host."""
        pid, job_id = record.get("pid"), record["id"]
        if pid is None or record.get("host", HOST) != HOST or not is_job_process(pid, job_id):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, CANCEL_SIGNAL)
        return True

    def shutdown(self, wait_seconds: float = 5.0) -> None:
        """Stop the jobs this process started: they end ``interrupted``."""
        with self._guard:
            children = list(self._children.values())
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(STOP_SIGNAL)
        deadline = time.monotonic() + wait_seconds
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()


def is_job_process(pid: int, job_id: str) -> bool:
    """True if pid is alive and is the job process for job_id (guards against pid reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return JOB_MODULE.encode() in cmdline and job_id.encode() in cmdline
