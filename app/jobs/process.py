"""The training job's own process: ``python -m app.jobs.process <home> <id> <lock fd> <timeout>``.

It trains with ``model.pipeline``, decides with ``model.promotion`` (the gate), and only then
writes to the registry, so a cancelled or killed job writes nothing. While it runs it is the
only writer of its record and its event stream (``app.jobs.store``). It holds the job lock,
passed in by the server as an open file descriptor, until it has written how it ended.

Signals: SIGUSR1 cancels it (``cancelled``); SIGTERM stops it (``interrupted``: the server is
shutting down). Either is honoured at once until the registry write begins; from then on the job
finishes writing and says the signal came too late. A job also stops when the server that
started it goes away (``interrupted``) or when it runs past its time limit (``failed``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from app.jobs.manager import CANCEL_SIGNAL, STOP_SIGNAL
from app.jobs.store import FETCHING, JobStore, now

BATCH_EVENTS_PER_EPOCH = 25  # progress events per epoch, whatever its size


class _Stop(BaseException):
    """Raised inside the job process to end it with a status (not an Exception: never caught)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


class Runner:
    """One job, from its record to its final status."""

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
        self._fetched: dict[str, int] = {}  # each download's last reported 5 % step

    def on_signal(self, signum, frame) -> None:
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
        self.check_alive()
        self.record["progress"] = event
        if event["kind"] == "epoch":
            self.record["history"].append(event)
        self.store.write(self.record)
        self.store.append_event(self.job_id, event)

    def on_fetch_log(self, message: str) -> None:
        """A step of fetching MNIST ("trying mirror …", "failed: …"): streamed as it happens."""
        self.check_alive()
        self.store.append_event(self.job_id, {"kind": "fetch", "message": message.strip()})

    def on_fetch_progress(self, name: str, done: int, total: int) -> None:
        """A download's bytes, streamed at most once per 5 % of each file."""
        self.check_alive()
        step = max(total // 20, 1)
        if done < total and done // step == self._fetched.get(name, -1):
            return
        self._fetched[name] = done // step
        event = {"kind": "fetch", "file": name, "done": done, "total": total}
        self.store.append_event(self.job_id, event)  # (not the record's progress: epochs only)

    def check_alive(self) -> None:
        """Stop if the server that started the job went away or the job ran out of time."""
        if os.getppid() != self.parent:
            raise _Stop("interrupted", "the server process that started this job went away")
        if time.monotonic() - self.started > self.timeout:
            raise _Stop("failed", f"the job ran longer than its limit of {self.timeout:.0f} s")

    def run(self) -> int:
        try:
            return self._run()
        finally:
            # The record says how the job ended; let the next job start without waiting for
            # this process to exit.
            with contextlib.suppress(OSError):
                fcntl.flock(self.lock_fd, fcntl.LOCK_UN)

    def _run(self) -> int:
        record = self.record
        record.update(status="running", started=now(), pid=os.getpid())
        self.store.write(record)
        self.store.append_event(self.job_id, {"kind": "status", "status": "running"})
        try:
            self._train_and_promote()
        except _Stop as stop:
            self.committing = True  # a second signal must not interrupt writing the outcome
            self.store.finish(record, stop.status, stop.reason)
        except Exception as e:
            self.committing = True
            traceback.print_exc()
            self.store.finish(record, "failed", f"{type(e).__name__}: {e}")
            return 1
        return 0

    def _train_and_promote(self) -> None:
        from app.feedback.store import load_split
        from model.data import cache_path, fetch, load_mnist
        from model.feedback_data import DEFAULT_WEIGHT
        from model.pipeline import train_and_evaluate
        from model.promotion import decide, measure_active, promote
        from model.registry import Registry
        from model.train import TrainConfig, training_set_size
        from model.trust import load as load_drawn

        record, request = self.record, self.record["request"]
        if not cache_path(self.home).is_file():
            # A fresh install: get MNIST through the same source chain as `digits data fetch`,
            # saying each step and each download's progress on the job's stream.
            self.phase(FETCHING)
            fetch(self.home, log=self.on_fetch_log, progress=self.on_fetch_progress)
        self.phase("loading data")
        mnist = load_mnist(self.home)
        include = bool(request.get("include_feedback"))
        weight = int(request.get("feedback_weight") or DEFAULT_WEIGHT)
        try:
            feedback = load_split(self.home)
        except Exception as e:
            if include:
                raise
            # Only asked for a score on the held-back drawings: never a reason to fail.
            record["notes"].append(f"the stored drawings could not be read ({e}), so the new "
                                   "model is not scored on them")  # fmt: skip
            feedback = None
        if include and (feedback is None or len(feedback.train_y) == 0):
            record["notes"].append("include_feedback: there are no stored drawings to train on "
                                   "yet, so this trains on MNIST alone")  # fmt: skip
        config = TrainConfig.from_dict(record["config"])
        extra = len(feedback.train_y) if include and feedback is not None else 0
        size = training_set_size(config, len(mnist.train_y), extra, weight)
        batches = -(-size // config.batch_size)
        config = TrainConfig.from_dict(
            {**config.to_dict(), "progress_every": max(1, batches // BATCH_EVENTS_PER_EPOCH)}
        )
        registry = Registry(self.home)
        record["parent"] = registry.ensure_initialised()
        self.phase("rendering drawn digits")  # once per machine; then read from the cache
        drawn = load_drawn()
        if drawn is None:
            record["notes"].append("the pen data is not on this machine, so the new model keeps "
                                   "the default calibration")  # fmt: skip
        self.phase("training")
        trained = train_and_evaluate(config, mnist, self.on_event, feedback,
                                     train_on_feedback=include, feedback_weight=weight,
                                     drawn=drawn)  # fmt: skip
        self.phase("evaluating")
        active = measure_active(registry, mnist, feedback)
        if active.error:
            print(f"could not evaluate the active model {active.version}: {active.error}",
                  flush=True)  # fmt: skip
        decision = decide(trained, active, record["gate_tolerance_pp"], bool(record["force"]))
        self.committing = True  # from here on the job ends with its verdict
        if not decision.promote:
            self.store.finish(record, "rejected", decision.rejection(), result=decision.result)
            return
        self.phase("promoting")
        version = promote(registry, trained, decision, record["parent"], self.job_id)
        reason = decision.promotion(version)
        if self.pending is not None:
            reason += f" ({self.pending.reason} too late: the model was already written)"
        self.store.finish(record, "succeeded", reason, result=decision.result)


def main(argv: list[str]) -> int:
    home, job_id, lock_fd, timeout = Path(argv[0]), argv[1], int(argv[2]), float(argv[3])
    # Forked helpers (the augmentation worker) must not keep the job lock alive if this process
    # is killed: only this process holds it.
    os.register_at_fork(after_in_child=lambda: os.close(lock_fd))
    with contextlib.suppress(OSError):
        os.nice(10)  # predictions come first
    runner = Runner(home, job_id, timeout, lock_fd)
    signal.signal(CANCEL_SIGNAL, runner.on_signal)
    signal.signal(STOP_SIGNAL, runner.on_signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the server's terminal: server's
    return runner.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
