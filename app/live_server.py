"""The real app in a subprocess on a free loopback port, for the tests, the benchmarks and scripts.

One uvicorn process by default; with ``workers`` the CLI as it is deployed, ``digits serve
--workers N`` (uvicorn's supervisor and N worker processes). Either way the server leads a
process group of its own, so that ``stop`` and ``kill`` reach every worker and any training job
it started. Its output goes to ``log`` (or is discarded), and is quoted when it fails to start.

    with LiveServer(home, workers=2, env={"DIGITS_ADMIN_TOKEN": token}) as server:
        httpx2.get(f"{server.url}/readyz")
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on the loopback interface that nothing is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The app with ``DIGITS_HOME=home`` on ``http://127.0.0.1:<port>``.

    ``env`` is added to this process's environment (a value of None removes that variable);
    ``uvicorn_args`` are passed to a single uvicorn process (not to ``digits serve``).
    """

    def __init__(
        self,
        home: Path,
        *,
        workers: int = 0,
        env: Mapping[str, str | None] | None = None,
        log: Path | None = None,
        uvicorn_args: Sequence[str] = (),
    ):
        self.home, self.workers, self.log_path = Path(home), workers, log
        self.env, self.uvicorn_args = dict(env or {}), tuple(uvicorn_args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        address = ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers:
            serve = [sys.executable, "-m", "app.cli", "serve", "--workers", str(self.workers)]
            return [*serve, *address]
        uvicorn = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
        return [*uvicorn, *address, "--log-level", "warning", *self.uvicorn_args]

    def start(self, timeout: float = 60.0) -> LiveServer:
        """Start it and wait until /readyz answers 200 (RuntimeError with its output if not)."""
        env = {**os.environ, "DIGITS_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            if self.log_path:
                out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            if self._ready():
                return self
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the server was not ready within {timeout:g} s:\n{self.log_tail()}")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self, grace: float = 20.0) -> None:
        """SIGINT to the group (uvicorn's graceful stop), SIGKILL after ``grace`` seconds, and
        SIGKILL for whatever is left of the group (a worker, a training job)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the whole group (supervisor, workers and jobs), as a crash would."""
        if self.process is None:
            return
        self._signal(signal.SIGKILL)
        self.process.wait(10)

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def log(self) -> str:
        """Everything the server has written so far ('' without a log file)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:]) or "(no server output)"

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
