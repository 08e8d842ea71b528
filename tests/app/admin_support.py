"""Shared pieces of the admin tests: a token, an app on a data home with MNIST, job polling."""

from __future__ import annotations

import time
from pathlib import Path

from app.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
MNIST = ROOT / "var" / "mnist.npz"
TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# A real retrain that takes about a second: small, one epoch, a subset, no augmentation.
TINY = {"hidden_layers": [32], "epochs": 1, "max_train_samples": 2000, "augment": False}
# Long enough to be caught mid-training (several seconds).
SLOW = {"hidden_layers": [256], "epochs": 20, "max_train_samples": 20000, "augment": False}


def with_mnist(home: Path) -> Path:
    """Link the test session's MNIST cache into a data home."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "mnist.npz").exists():
        (home / "mnist.npz").symlink_to(MNIST)
    return home


def wait_for(get_job, condition, timeout: float = 60.0, every: float = 0.1) -> dict:
    """Poll get_job() until condition(job) holds; returns the job (fails on timeout)."""
    deadline = time.monotonic() + timeout
    job = get_job()
    while not condition(job):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; last job state: {job}")
        time.sleep(every)
        job = get_job()
    return job


FINAL = {"succeeded", "rejected", "failed", "cancelled", "interrupted"}


def finished(job: dict) -> bool:
    return job["status"] in FINAL


def training(job: dict) -> bool:
    """True once the job has reported at least one training progress event."""
    return job["status"] == "running" and job.get("progress") is not None


# ---- a real server in a subprocess -------------------------------------------------------------


def digits_serve(
    home: Path,
    log: Path,
    workers: int = 1,
    token: str | None = TOKEN,
    env: dict[str, str] | None = None,
) -> LiveServer:
    """`digits serve --workers N` on a loopback port, with the admin token (or none)."""
    return LiveServer(
        home, workers=workers, log=log, env={"DIGITS_ADMIN_TOKEN": token, **(env or {})}
    )
