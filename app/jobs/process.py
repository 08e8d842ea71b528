"""The training job's own process: ``python -m app.jobs.process <home> <id> <timeout> [<lock>]``.

It trains with ``model.pipeline``, decides with ``model.promotion`` (the gate), and only then
writes to the registry, so a cancelled or killed job writes nothing. While it runs it is the
only writer of its record and its event stream. It holds the job lock until it has written how
it ended: an open file descriptor passed in by the server, or with a shared database the lease
it renews (``app.db.jobs``). Its stores come from ``app.stores`` (the server puts what it needs
in its environment), so with a database it reads MNIST and the drawings, and writes the new
model, through the database, and can run on any replica.

Signals: SIGUSR1 cancels it (``cancelled``); SIGTERM stops it (``interrupted``: the server is
shutting down). Either is honoured at once until the registry write begins; from then on the job
finishes writing and says the signal came too late. A cancel asked for on another host arrives
through the lease as the same SIGUSR1. A job also stops when the server that started it goes
away (``interrupted``), when its lease was taken from it (``interrupted``), or when it runs past
its time limit (``failed``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from app.config import Settings
from app.db import DatabaseUnavailable
from app.jobs.manager import CANCEL_SIGNAL, STOP_SIGNAL
from app.jobs.store import FETCHING, Held, now
from app.stores import Stores, open_stores

BATCH_EVENTS_PER_EPOCH = 25  # progress events per epoch, whatever its size
# The phase until the first batch trains: assembling the training set, augmenting its first
# epoch (a few seconds); then "training".
PREPARING = "preparing the training set"


class _Stop(BaseException):
    """Raised inside the job process to end it with a status (not an Exception: never caught)."""

    def __init__(self, status: str, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


class Runner:
    """One job, from its record to its final status."""

    def __init__(self, stores: Stores, job_id: str, timeout_seconds: float):
        self.stores = stores
        self.store = stores.jobs
        self.job_id = job_id
        self.timeout = timeout_seconds
        self.parent = os.getppid()
        self.started = time.monotonic()
        self.committing = False  # once the registry write starts, it finishes
        self.pending: _Stop | None = None
        self.asked: _Stop | None = None  # a stop asked for from another thread (the lease's)
        self.held = Held()
        self.record = self.store.read(job_id)
        self._fetched: dict[str, int] = {}  # each download's last reported 5 % step

    def on_signal(self, signum, frame) -> None:
        stop = self.asked or (
            _Stop("cancelled", "cancelled by an admin")
            if signum == CANCEL_SIGNAL
            else _Stop("interrupted", "the server shut down while this job was running")
        )
        if self.committing:
            self.pending = stop  # too late to stop cleanly: the result is being written
            return
        raise stop

    def ask(self, stop: _Stop) -> None:
        """Stop the job from another thread: the main thread gets it as a signal."""
        self.asked = stop
        os.kill(os.getpid(), CANCEL_SIGNAL)

    def phase(self, phase: str) -> None:
        self.record["phase"] = phase
        self.store.write(self.record)
        self.store.append_event(self.job_id, {"kind": "phase", "phase": phase})

    def on_event(self, event: dict) -> None:
        """A training progress event: record it, stream it, and check the job should go on."""
        self.check_alive()
        if self.record.get("phase") == PREPARING:
            with contextlib.suppress(DatabaseUnavailable):  # as for progress: no reason to fail
                self.phase("training")
        self.record["progress"] = event
        if event["kind"] == "epoch":
            self.record["history"].append(event)
        try:
            self.store.write(self.record)
            self.store.append_event(self.job_id, event)
        except DatabaseUnavailable:
            # Progress is no reason to fail a job: the record, history included, is written
            # whole at the next event that gets through (the stream misses the ones between).
            pass

    def on_fetch_log(self, message: str) -> None:
        """A step of fetching MNIST ("trying mirror …", "failed: …"): streamed as it happens."""
        self.check_alive()
        with contextlib.suppress(DatabaseUnavailable):  # as for progress: no reason to fail
            self.store.append_event(self.job_id, {"kind": "fetch", "message": message.strip()})

    def on_fetch_progress(self, name: str, done: int, total: int) -> None:
        """A download's bytes, streamed at most once per 5 % of each file."""
        self.check_alive()
        step = max(total // 20, 1)
        if done < total and done // step == self._fetched.get(name, -1):
            return
        self._fetched[name] = done // step
        event = {"kind": "fetch", "file": name, "done": done, "total": total}
        with contextlib.suppress(DatabaseUnavailable):  # (not the record's progress: epochs only)
            self.store.append_event(self.job_id, event)

    def check_alive(self) -> None:
        """Stop if the server that started the job went away or the job ran out of time."""
        if os.getppid() != self.parent:
            raise _Stop("interrupted", "the server process that started this job went away")
        if time.monotonic() - self.started > self.timeout:
            raise _Stop("failed", f"the job ran longer than its limit of {self.timeout:.0f} s")

    def run(self, lock: list[str]) -> int:
        """Hold the lock (``lock``: what the server passed) while the job runs; the record
        says how the job ended before the lock is let go, so the next job may start at once."""
        lost = _Stop(
            "interrupted",
            "this job lost its lease on the job lock (the database was "
            "unreachable for longer than the lease), so it stopped without promoting",
        )
        try:
            with self.store.hold(
                self.job_id,
                lock,
                on_cancel=lambda: self.ask(_Stop("cancelled", "cancelled by an admin")),
                on_lost=lambda: self.ask(lost),
            ) as held:
                self.held = held
                return self._run()
        except _Stop as stop:
            # A stop that came before ``_run`` could catch it: a cancel already flagged when the
            # lease is first renewed (the lease, or the lock, is still held then). The job
            # still ends as asked (a job that had already ended keeps its ending: the store's
            # finish writes only the first).
            self.committing = True
            self.store.finish(self.record, stop.status, stop.reason)
            return 0

    def _run(self) -> int:
        record = self.record
        try:
            # Inside the try: a signal once the pid is written (it may come at once) is a stop
            # recorded here, while the lock is still held.
            record.update(status="running", started=now(), pid=os.getpid())
            self.store.write(record)
            self.store.append_event(self.job_id, {"kind": "status", "status": "running"})
            # A cancel asked before this process had said who it is could not be a signal.
            if self.store.cancel_requested(self.job_id):
                raise _Stop("cancelled", "cancelled by an admin")
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
        from model.data import fetch
        from model.feedback_data import DEFAULT_WEIGHT
        from model.pipeline import train_and_evaluate
        from model.promotion import decide, measure_active, promote
        from model.train import (
            TrainConfig,
            batch_size_for,
            short_run_note,
            training_set_size,
        )
        from model.trust import load as load_drawn

        record, request = self.record, self.record["request"]
        if not self.stores.has_mnist():
            # A fresh install: get MNIST through the same source chain as `digits data fetch`,
            # saying each step and each download's progress on the job's stream, and share it
            # through the database (when there is one) for the jobs of every host.
            self.phase(FETCHING)
            fetch(self.stores.home, log=self.on_fetch_log, progress=self.on_fetch_progress)
            with contextlib.suppress(DatabaseUnavailable):  # this job has it; the next may share
                self.stores.share_mnist()
        self.phase("loading data")
        mnist = self.stores.mnist()
        include = bool(request.get("include_feedback"))
        weight = int(request.get("feedback_weight") or DEFAULT_WEIGHT)
        try:
            feedback = load_split(self.stores.feedback)
        except Exception as e:
            if include:
                raise
            # Only asked for a score on the held-back drawings: never a reason to fail.
            record["notes"].append(
                f"the stored drawings could not be read ({e}), so the new "
                "model is not scored on them"
            )
            feedback = None
        if include and (feedback is None or len(feedback.train_y) == 0):
            record["notes"].append(
                "include_feedback: there are no stored drawings to train on "
                "yet, so this trains on MNIST alone"
            )
        config = TrainConfig.from_dict(record["config"])
        # As many as train() will be given (train_and_evaluate): the run's size decides whether
        # it is short, which its notes say.
        extra = len(feedback.trainable(config.classes)[1]) if include and feedback else 0
        size = training_set_size(config, len(mnist.train_y), extra, weight)
        batches = -(-size // batch_size_for(config, size))
        if note := short_run_note(config, size):
            record["notes"].append(note)
        config = TrainConfig.from_dict(
            {**config.to_dict(), "progress_every": max(1, batches // BATCH_EVENTS_PER_EPOCH)}
        )
        registry = self.stores.registry
        record["parent"] = registry.ensure_initialised()
        self.phase("rendering drawn digits")  # once per machine; then read from the cache
        drawn = load_drawn()
        if drawn is None:
            record["notes"].append(
                "the pen data is not on this machine, so the new model keeps "
                "the default calibration"
            )
        # The training set is assembled, and its first epoch augmented, before the first
        # batch: "training" is said with the first progress event (on_event).
        self.phase(PREPARING)
        trained = train_and_evaluate(
            config,
            mnist,
            self.on_event,
            feedback,
            train_on_feedback=include,
            feedback_weight=weight,
            drawn=drawn,
        )
        self.phase("evaluating")
        active = measure_active(registry, mnist, feedback)
        if active.error:
            print(
                f"could not evaluate the active model {active.version}: {active.error}", flush=True
            )
        decision = decide(trained, active, record["gate_tolerance_pp"], bool(record["force"]))
        if self.held.lost:
            raise _Stop(
                "interrupted",
                "this job lost its lease on the job lock before it could "
                "write its result, so it stopped without promoting",
            )
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
    home, job_id, timeout, lock = Path(argv[0]), argv[1], float(argv[2]), argv[3:]
    with contextlib.suppress(OSError):
        os.nice(10)  # predictions come first
    # The server put what the stores need in the environment (DIGITS_DATABASE_URL, …).
    stores = open_stores(Settings(home=home), name=f"digits-job-{job_id}", pool_size=2)
    try:
        runner = Runner(stores, job_id, timeout)
        signal.signal(CANCEL_SIGNAL, runner.on_signal)
        signal.signal(STOP_SIGNAL, runner.on_signal)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the server's terminal: server's
        return runner.run(lock)
    finally:
        stores.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
