"""Shared pieces of the admin tests: a token, an app on a data home with MNIST, job polling."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`digits serve` (or plain uvicorn) on a loopback port, its output captured in a file."""

    def __init__(
        self,
        home: Path,
        log: Path,
        workers: int = 1,
        token: str | None = TOKEN,
        env: dict[str, str] | None = None,
    ):
        self.home, self.log_path, self.workers, self.token = home, log, workers, token
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> Server:
        env = {**os.environ, "DIGITS_HOME": str(self.home), "PYTHONUNBUFFERED": "1", **self.env}
        env.pop("DIGITS_ADMIN_TOKEN", None)
        if self.token:
            env["DIGITS_ADMIN_TOKEN"] = self.token
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port),
                   "--workers", str(self.workers)]  # fmt: skip
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log,
                                            start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited:\n{self.log()}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.2)
        raise AssertionError(f"server not ready in {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole server (supervisor and workers), as a crash would."""
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
