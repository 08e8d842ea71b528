"""Runs the lab: every experiment's jobs, ``workers`` at a time, then their report sections.

Each job runs in a forked worker process with one BLAS thread. On this project's small matrices
OpenBLAS is several times slower with two threads than with one, so two runs side by side (one
per core) do twice the work of one run given both cores. The data is loaded once, before the
workers fork, so they share it. Jobs start longest first (by their estimated cost), and an
experiment's follow-up jobs join the queue as soon as its first jobs are done.

``on_event`` hears about every run: {"kind": "start" | "progress" | "done", "job", "done",
"total", "elapsed", "eta", "running": {label: fraction}} (``seconds`` on "done").
"""

from __future__ import annotations

import datetime
import multiprocessing
import os
import platform
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from model.lab import activations, batch_size, data, depth_width, function, losses, minima
from model.lab.job import Job, Settings

EXPERIMENTS = {m.ID: m for m in (function, depth_width, activations, losses, batch_size, minima)}
QUICK_PEN_DIGITS = 1500  # a seeded sample of the drawn digits for --quick
SCHEMA = 1

Event = dict
_queue = None  # the progress queue, in a worker


def _init_worker(queue) -> None:
    global _queue
    _queue = queue
    threadpool_limits(1)  # for the life of this worker process


class _Reporter:
    """progress(fraction) in a worker → the parent's queue, at most twice a second."""

    def __init__(self, job_id: int):
        self.job_id, self.last = job_id, 0.0

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if _queue is not None and now - self.last >= 0.5:
            self.last = now
            _queue.put((self.job_id, float(fraction)))


def _execute(job_id: int, job: Job) -> tuple[dict, float]:
    started = time.perf_counter()
    result = job.fn(job.params, data.current(), _Reporter(job_id))
    return result, time.perf_counter() - started


def run_lab(
    names: list[str],
    settings: Settings,
    home: Path,
    on_event: Callable[[Event], None] = lambda e: None,
    commit: str | None = None,
) -> dict:
    """Run the named experiments (in the lab's order) and return the results document."""
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiment {unknown[0]!r}; choose from {list(EXPERIMENTS)}")
    names = [n for n in EXPERIMENTS if n in names]
    started = time.perf_counter()
    lab_data = data.load(
        home, QUICK_PEN_DIGITS if settings.quick else None, processes=settings.workers
    )
    results: dict[str, dict] = {n: {} for n in names}
    seconds: dict[str, dict] = {n: {} for n in names}
    pending: list[Job] = [job for n in names for job in EXPERIMENTS[n].plan(settings)]
    first_left = {n: sum(j.experiment == n for j in pending) for n in names}
    total, done, done_cost = len(pending), 0, 0.0
    remaining_cost = sum(j.cost for j in pending)
    running: dict[Future, tuple[int, Job]] = {}
    fractions: dict[int, float] = {}
    ids = iter(range(1 << 30))

    def status(kind: str, job: Job | None = None, **extra) -> Event:
        elapsed = time.perf_counter() - started
        in_flight = sum(j.cost * fractions.get(i, 0.0) for i, j in running.values())
        rate = elapsed / max(done_cost + in_flight, 1e-9) if done_cost + in_flight else None
        eta = rate * (remaining_cost - in_flight) if rate else None
        return {
            "kind": kind,
            "job": job.label if job else None,
            "done": done,
            "total": total,
            "elapsed": elapsed,
            "eta": eta,
            "running": {j.label: fractions.get(i, 0.0) for i, j in running.values()},
            **extra,
        }

    context = multiprocessing.get_context("fork")
    queue = context.SimpleQueue()
    pool = ProcessPoolExecutor(
        settings.workers, mp_context=context, initializer=_init_worker, initargs=(queue,)
    )
    try:
        while pending or running:
            pending.sort(key=lambda j: -j.cost)
            while pending and len(running) < settings.workers:
                job = pending.pop(0)
                job_id = next(ids)
                running[pool.submit(_execute, job_id, job)] = (job_id, job)
                on_event(status("start", job))
            finished, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
            while not queue.empty():
                job_id, fraction = queue.get()
                fractions[job_id] = fraction
            on_event(status("progress"))
            for future in finished:
                job_id, job = running.pop(future)
                result, took = future.result()  # a failed run stops the lab, with its error
                results[job.experiment][job.key] = result
                seconds[job.experiment][job.key] = took
                done, done_cost = done + 1, done_cost + job.cost
                remaining_cost -= job.cost
                fractions.pop(job_id, None)
                on_event(status("done", job, seconds=took))
                first_left[job.experiment] -= 1
                if first_left[job.experiment] == 0:
                    module = EXPERIMENTS[job.experiment]
                    more = (
                        module.follow_up(settings, results[job.experiment])
                        if hasattr(module, "follow_up")
                        else []
                    )
                    first_left[job.experiment] = -1  # follow-ups are asked for once
                    pending.extend(more)
                    total += len(more)
                    remaining_cost += sum(j.cost for j in more)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

    sections = []
    for n in names:
        section = EXPERIMENTS[n].summarise(settings, results[n])
        section["seconds"] = round(sum(seconds[n].values()), 1)
        sections.append(section)
    return {
        "schema": SCHEMA,
        "title": "The lecture lab",
        "generated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "quick": settings.quick,
        "seeds": settings.seeds,
        "workers": settings.workers,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": _machine(),
        "data": {
            "mnist_fingerprint": lab_data.fingerprint,
            "train": len(lab_data.train_y),
            "validation": len(lab_data.val_y),
            "test": len(lab_data.test_y),
            "pen_digits": 0 if lab_data.pen is None else len(lab_data.pen.labels),
        },
        "experiments": sections,
    }


def _machine() -> dict:
    blas = next((i for i in threadpool_info() if i.get("user_api") == "blas"), {})
    return {
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": f"{blas.get('internal_api', '?')} {blas.get('version', '')}".strip(),
    }
