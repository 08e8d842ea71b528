"""Training jobs: one at a time per data home, each in its own OS process at lower CPU priority.

On disk, under ``<home>/jobs/``:

- ``<id>.json``: the job record (status, config, per-epoch history, result, reason), replaced
  atomically on every change, so job history survives restarts.
- ``<id>.events``: one JSON line per progress or status event, appended by the job; the
  ``/events`` stream tails it.
- ``<id>.log``: the job process's own output (tracebacks of a failed job end up here).
- ``LOCK``: held (``flock``) by the running job process. Whoever takes it may start a job, so
  across every worker of a server exactly one job runs. The kernel releases it when the process
  exits, however it exits (SIGKILL included).
- ``CURRENT``: the id of the job that last took the lock (for the 409 on a second request).

Who writes a record: the server that accepts a request writes it ``queued``; from then on only the
job process writes it, until it ends. A job that ended without saying so (killed, or the server
died) is marked by ``reconcile``, which only touches jobs that can no longer be running: when the
lock is free, or when another job is the current one.

The job process (``python -m app.jobs <home> <id>``) trains with ``model.pipeline``, applies the
gate, and only then writes to the registry, so a cancelled or killed job writes nothing. SIGUSR1
cancels it (``cancelled``); SIGTERM stops it as ``interrupted`` (the server is shutting down).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from model.registry import atomic_write

log = logging.getLogger(__name__)

FINAL = frozenset({"succeeded", "rejected", "failed", "cancelled", "interrupted"})
ACTIVE = frozenset({"queued", "running"})
JOB_ID = re.compile(r"^j-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")
CANCEL_SIGNAL = signal.SIGUSR1
STOP_SIGNAL = signal.SIGTERM
ROOT = Path(__file__).resolve().parent.parent


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class JobBusy(RuntimeError):
    """Another job holds the lock."""

    def __init__(self, job_id: str | None):
        super().__init__(f"job {job_id} is running")
        self.job_id = job_id


class JobNotFound(KeyError):
    pass


class JobFinished(RuntimeError):
    """The job has already ended, so it cannot be cancelled."""


# ---- the store ---------------------------------------------------------------------------------


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
        """Write a final status on a record and announce it on its event stream."""
        record.update(status=status, reason=reason, finished=now(), phase=None, **fields)
        self.write(record)
        self.append_event(record["id"], {"kind": "status", "status": status, "reason": reason,
                                         "result": record.get("result")})  # fmt: skip
        return record

    def reconcile(self, status: str = "interrupted", reason: str | None = None) -> list[str]:
        """Mark jobs that say queued/running but whose process is gone. Returns their ids."""
        records = [r for r in self.records() if r.get("status") in ACTIVE]
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
                why = reason or (
                    "the training process ended without reporting a result (the server stopped "
                    "or the process was killed)"
                )
                self.finish(record, status, why)
                marked.append(record["id"])
            return marked
        finally:
            if fd is not None:
                os.close(fd)


# ---- the manager (in each server process) ------------------------------------------------------


class JobManager:
    """Starts, cancels and reconciles jobs for one server process."""

    def __init__(self, home: Path, gate_tolerance_pp: float, timeout_seconds: float):
        self.home = Path(home)
        self.store = JobStore(home)
        self.gate_tolerance_pp = gate_tolerance_pp
        self.timeout_seconds = timeout_seconds
        self._children: dict[str, subprocess.Popen] = {}
        self._guard = threading.Lock()

    def start(self, request: dict, train_config: dict) -> dict:
        """Start a job, or raise JobBusy with the running job's id."""
        fd = self.store.try_lock()
        deadline = time.monotonic() + 2.0
        while fd is None:
            # A job that has just ended lets go of the lock a moment after it says so; a job
            # that has just started names itself in CURRENT a moment after taking it.
            current = self.store.current()
            status = None
            with contextlib.suppress(JobNotFound):
                status = current and self.store.read(current).get("status")
            if status in ACTIVE or time.monotonic() > deadline:
                raise JobBusy(self._running_id())
            time.sleep(0.05)
            fd = self.store.try_lock()
        try:
            # With the lock held nothing else is running: tidy up jobs that died unannounced.
            for record in self.store.records():
                if record.get("status") in ACTIVE:
                    self.store.finish(record, "interrupted", "the training process ended "
                                      "without reporting a result")  # fmt: skip
            created = datetime.now(UTC)
            job_id = f"j-{created:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
            atomic_write(self.store.current_file, lambda f: f.write(job_id.encode()))
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
                "notes": [],
            }
            self.store.write(record)
            self.store.append_event(job_id, {"kind": "status", "status": "queued"})
            command = [sys.executable, "-m", "app.jobs", str(self.home), job_id, str(fd),
                       str(self.timeout_seconds)]  # fmt: skip
            with open(self.store.log_path(job_id), "ab") as out:
                child = self._spawn(record, command, fd, out)
        finally:
            os.close(fd)  # the child holds the lock now (or nobody does, if it failed to start)
        with self._guard:
            self._children[job_id] = child
        threading.Thread(target=self._reap, args=(job_id, child), daemon=True).start()
        return record

    def _spawn(self, record: dict, command: list[str], fd: int, out) -> subprocess.Popen:
        try:
            return subprocess.Popen(
                command, cwd=ROOT, pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        except OSError as e:
            self.store.finish(record, "failed", f"could not start the training process: {e}")
            raise

    def _running_id(self) -> str | None:
        """The id of the job holding the lock. A job that has just taken it names itself in
        CURRENT a moment later, so wait (briefly) for CURRENT to name an unfinished job."""
        current = None
        for _ in range(40):
            current = self.store.current()
            with contextlib.suppress(JobNotFound):
                if current and self.store.read(current).get("status") in ACTIVE:
                    return current
            time.sleep(0.025)
        return current

    def _reap(self, job_id: str, child: subprocess.Popen) -> None:
        """Wait for a job process (no zombies) and record its end if it could not."""
        code = child.wait()
        with self._guard:
            self._children.pop(job_id, None)
        try:
            record = self.store.read(job_id)
        except JobNotFound:
            return
        if record.get("status") in ACTIVE:
            if code < 0:
                why = f"the training process was killed by {signal.Signals(-code).name}"
            else:
                why = f"the training process exited with code {code}; see jobs/{job_id}.log"
            self.store.finish(record, "failed", why)
            log.error("job %s failed: %s", job_id, why)

    def cancel(self, job_id: str) -> dict:
        record = self.store.read(job_id)
        if record.get("status") not in ACTIVE:
            raise JobFinished(f"job {job_id} has already ended ({record.get('status')})")
        pid = record.get("pid")
        if pid is None or self.store.current() != job_id or not is_job_process(pid, job_id):
            # Queued and not yet running, or dead: either way nothing is training.
            if self.store.current() == job_id and pid is None:
                # A just-started job writes its pid in a moment; give it a short while.
                for _ in range(50):
                    time.sleep(0.05)
                    record = self.store.read(job_id)
                    if record.get("pid") or record.get("status") not in ACTIVE:
                        break
                pid = record.get("pid")
            if record.get("status") not in ACTIVE:
                raise JobFinished(f"job {job_id} has already ended ({record.get('status')})")
            if pid is None or not is_job_process(pid, job_id):
                self.store.reconcile()
                return self.store.read(job_id)
        os.kill(pid, CANCEL_SIGNAL)
        return record

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
    return b"app.jobs" in cmdline and job_id.encode() in cmdline


# ---- the job process ---------------------------------------------------------------------------


class _Stop(BaseException):
    """Raised inside the job process to end it with a status (not an Exception: never caught)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


class _Runner:
    def __init__(self, home: Path, job_id: str, timeout_seconds: float, lock_fd: int):
        self.home = home
        self.lock_fd = lock_fd
        self.store = JobStore(home)
        self.job_id = job_id
        self.timeout = timeout_seconds
        self.parent = os.getppid()
        self.started = time.monotonic()
        self.committing = False  # once the registry write starts, it finishes
        self.pending: _Stop | None = None
        self.record = self.store.read(job_id)
        self.seq = 0

    def _signal(self, signum, frame) -> None:
        stop = (
            _Stop("cancelled", "cancelled by an admin")
            if signum == CANCEL_SIGNAL
            else _Stop("interrupted", "the server shut down while this job was running")
        )
        if self.committing:
            self.pending = stop  # too late to stop cleanly: the result is being written
            return
        raise stop

    def phase(self, phase: str) -> None:
        self.record["phase"] = phase
        self.store.write(self.record)
        self.store.append_event(self.job_id, {"kind": "phase", "phase": phase})

    def on_event(self, event: dict) -> None:
        """A training progress event: record it, stream it, and check the job should go on."""
        if os.getppid() != self.parent:
            raise _Stop("interrupted", "the server process that started this job went away")
        if time.monotonic() - self.started > self.timeout:
            raise _Stop("failed", f"the job ran longer than its limit of {self.timeout:.0f} s")
        self.record["progress"] = event
        if event["kind"] == "epoch":
            self.record["history"].append(event)
        self.store.write(self.record)
        self.store.append_event(self.job_id, event)

    def run(self) -> int:
        try:
            return self._run()
        finally:
            # The record says how the job ended; let the next job start without waiting for
            # this process to exit.
            with contextlib.suppress(OSError):
                fcntl.flock(self.lock_fd, fcntl.LOCK_UN)

    def _run(self) -> int:
        from model.data import load_mnist, to_float
        from model.feedback_data import DEFAULT_WEIGHT
        from model.pipeline import evaluate_held_back, train_and_evaluate
        from model.registry import Registry, gate
        from model.train import TrainConfig, evaluate

        record = self.record
        record.update(status="running", started=now(), pid=os.getpid())
        self.store.write(record)
        self.store.append_event(self.job_id, {"kind": "status", "status": "running"})
        try:
            self.phase("loading data")
            config = TrainConfig.from_dict(record["config"])
            n = min(config.max_train_samples or 60_000, 60_000)
            batches = -(-(n - min(config.validation_size, n // 5)) // config.batch_size)
            config = TrainConfig.from_dict(
                {**config.to_dict(), "progress_every": max(1, batches // 25)}
            )
            mnist = load_mnist(self.home)
            include = bool(record["request"].get("include_feedback"))
            try:
                feedback = load_feedback(self.home)
            except Exception as e:
                if include:
                    raise
                # Only asked for a score on the held-back drawings: never a reason to fail.
                record["notes"].append(f"the stored drawings could not be read ({e}), so the "
                                       "new model is not scored on them")  # fmt: skip
                feedback = None
            weight = int(record["request"].get("feedback_weight") or DEFAULT_WEIGHT)
            if include and (feedback is None or len(feedback.train_y) == 0):
                record["notes"].append("include_feedback: there are no stored drawings to train "
                                       "on yet, so this trains on MNIST alone")  # fmt: skip
            registry = Registry(self.home)
            parent = registry.ensure_initialised()
            record["parent"] = parent
            self.phase("training")
            trained = train_and_evaluate(
                config, mnist, self.on_event, feedback, train_on_feedback=include,
                feedback_weight=weight,
            )  # fmt: skip
            self.phase("evaluating")
            active_version = registry.active_version()
            active_accuracy = active_feedback = None
            try:
                active = registry.load(active_version)
                active_accuracy = evaluate(active.network, to_float(mnist.test_x),
                                           mnist.test_y)["accuracy"]  # fmt: skip
                active_held = evaluate_held_back(active.network, feedback)
                active_feedback = active_held and active_held["accuracy"]
            except Exception as e:  # an unreadable active model cannot veto a new one
                print(f"could not evaluate the active model {active_version}: {e}", flush=True)
            verdict = gate(trained.test["accuracy"], active_accuracy,
                           record["gate_tolerance_pp"] / 100)  # fmt: skip
            held = trained.held_back
            feedback_line = feedback_report(held, active_feedback)
            result = {
                "mnist_test_accuracy": trained.test["accuracy"],
                "feedback_accuracy": held and held["accuracy"],
                "feedback_size": held["size"] if held else 0,
                "active_feedback_accuracy": active_feedback,
                "trained_on_feedback": bool((trained.meta.get("feedback") or {}).get("trained_on")),
                "validation_accuracy": trained.result.validation_accuracy,
                "best_epoch": trained.result.best_epoch,
                "train_seconds": round(trained.result.seconds, 1),
                "compared_with": active_version,
                "active_accuracy": active_accuracy,
                "gate_passed": verdict.passed,
                "forced": bool(record["force"]),
                "version": None,
                "promoted": False,
            }
            self.committing = True  # from here on the job ends with its verdict
            if not verdict.passed and not record["force"]:
                self.store.finish(record, "rejected", f"rejected: {verdict.reason}{feedback_line}",
                                  result=result)  # fmt: skip
                return 0
            self.phase("promoting")
            meta = {
                **trained.meta,
                "parent": parent,
                "job_id": self.job_id,
                "gate": {"passed": verdict.passed, "forced": bool(record["force"]),
                         "active_accuracy": active_accuracy,
                         "tolerance_pp": record["gate_tolerance_pp"],
                         "feedback_accuracy": result["feedback_accuracy"],
                         "active_feedback_accuracy": active_feedback,
                         "feedback_size": result["feedback_size"]},
            }  # fmt: skip
            version = registry.add(trained.network, meta)
            registry.activate(version)
            result.update(version=version, promoted=True)
            reason = (
                f"promoted {version}: {verdict.reason}"
                if verdict.passed
                else f"promoted {version} by force, although it {verdict.reason}"
            ) + feedback_line
            if self.pending is not None:
                reason += f" ({self.pending.reason} too late: the model was already written)"
            self.store.finish(record, "succeeded", reason, result=result)
            return 0
        except _Stop as stop:
            self.committing = True  # a second signal must not interrupt writing the outcome
            self.store.finish(record, stop.status, stop.reason)
            return 0
        except Exception as e:
            self.committing = True
            import traceback

            traceback.print_exc()
            self.store.finish(record, "failed", f"{type(e).__name__}: {e}")
            return 1


def load_feedback(home: Path):
    """The stored drawings split into training and held-back parts (None when there are none).

    Only their pixels and labels are read (785 bytes a drawing). A data home without a feedback
    database is left without one."""
    from app.feedback.store import DB_NAME, FeedbackStore
    from model.feedback_data import split_feedback

    if not (Path(home) / DB_NAME).is_file():
        return None
    store = FeedbackStore(home)
    store.open()  # checks the file (a clear error if it is damaged) and its schema
    x, y = store.labelled_pixels()
    return split_feedback(x, y) if len(y) else None


def feedback_report(held: dict | None, active: float | None) -> str:
    """The gate's line about the held-back drawings (it reports them; MNIST decides)."""
    if not held:
        return ""
    line = f"; held-back drawings: {held['accuracy']:.2%} of {held['size']}"
    return line + (f" vs the active model's {active:.2%}" if active is not None else "")


def _main(argv: list[str]) -> int:
    home, job_id, lock_fd, timeout = Path(argv[0]), argv[1], int(argv[2]), float(argv[3])
    # Forked helpers (the augmentation worker) must not keep the job lock alive if this process
    # is killed: only this process holds it.
    os.register_at_fork(after_in_child=lambda: os.close(lock_fd))
    with contextlib.suppress(OSError):
        os.nice(10)  # predictions come first
    runner = _Runner(home, job_id, timeout, lock_fd)
    signal.signal(CANCEL_SIGNAL, runner._signal)
    signal.signal(STOP_SIGNAL, runner._signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the server's terminal: server's
    return runner.run()


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
