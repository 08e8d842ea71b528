"""The real app in a subprocess on a free loopback port, for the benchmarks.

By default one uvicorn process; with ``workers`` the CLI as it is deployed, ``digits serve
--workers N`` (uvicorn's supervisor and N worker processes), in a process group of its own so
that ``stop_server`` ends every worker and training job with it.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    home: Path,
    env: dict[str, str] | None = None,
    uvicorn_args: tuple[str, ...] = (),
    *,
    workers: int = 0,
    log: Path | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start the app with DIGITS_HOME=home (plus env); wait until /readyz answers 200.

    workers > 0 runs `digits serve --workers N` instead of plain uvicorn (uvicorn_args are then
    not used). log, if given, receives the server's stdout and stderr. Returns the process and
    its base URL. Raises SystemExit if it is not ready in 60 s.
    """
    port = free_port()
    if workers:
        command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port",
                   str(port), "--workers", str(workers)]  # fmt: skip
    else:
        command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                   "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                   *uvicorn_args]  # fmt: skip
    with open(log, "ab") if log else contextlib.nullcontext() as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, "DIGITS_HOME": str(home), **(env or {})},
            stdout=out, stderr=out, start_new_session=bool(workers),
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.2)
    exited = server.poll() is not None
    stop_server(server, grace=0)
    raise SystemExit(
        f"the server exited before it was ready (exit code {server.returncode})"
        if exited
        else f"the server did not become ready within {READY_SECONDS} s"
    )


def stop_server(server: subprocess.Popen, grace: float = 20) -> None:
    """SIGINT (uvicorn's graceful stop), SIGKILL after grace seconds. A server that leads its own
    process group (started with workers) is signalled as the group, and whatever is left of the
    group (a worker, a training job) is killed once the supervisor has exited."""
    try:
        group = os.getpgid(server.pid) == server.pid
    except ProcessLookupError:
        group = False

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(server.pid, sig)
            else:
                server.send_signal(sig)

    if server.poll() is None:
        send(signal.SIGINT)
        try:
            server.wait(grace)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            server.wait(10)
    if group:
        send(signal.SIGKILL)
