"""The real app in a uvicorn subprocess on a free loopback port, for the benchmarks."""

from __future__ import annotations

import os
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
    home: Path, env: dict[str, str] | None = None, uvicorn_args: tuple[str, ...] = ()
) -> tuple[subprocess.Popen, str]:
    """Start the app with DIGITS_HOME=home (plus env); wait until /readyz answers 200.

    Returns the process and its base URL. Raises SystemExit if it is not ready in 60 s.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host",
         "127.0.0.1", "--port", str(port), "--log-level", "warning", *uvicorn_args],
        cwd=ROOT, env={**os.environ, "DIGITS_HOME": str(home), **(env or {})},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not become ready within {READY_SECONDS} s")
