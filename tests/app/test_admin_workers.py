"""A real `digits serve --workers 2`: every worker follows a promotion within 2 seconds, two
simultaneous retrain requests start exactly one job, and the admin token stays out of the logs."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import httpx2
import pytest
from admin_support import AUTH, SLOW, TOKEN, digits_serve, finished, wait_for, with_mnist

from app.jobs import JobStore
from model.network import MLP
from model.registry import Registry

pytestmark = pytest.mark.slow


def worker_views(url: str, rounds: int = 40) -> dict[int, str]:
    """{pid: version it serves}, asking over fresh connections so both workers answer."""
    seen: dict[int, str] = {}
    for _ in range(rounds):
        with httpx2.Client(headers=AUTH, timeout=5) as client:  # a new connection each time
            data = client.get(f"{url}/api/admin/worker").json()
        seen[data["pid"]] = data["serving"]
    return seen


def test_two_workers_both_serve_a_promotion_within_two_seconds(tmp_path):
    home = with_mnist(tmp_path / "home")
    with digits_serve(home, tmp_path / "server.log", workers=2) as server:
        deadline = time.monotonic() + 20
        views = worker_views(server.url)
        while len(views) < 2 and time.monotonic() < deadline:
            views.update(worker_views(server.url))
        assert len(views) == 2, f"only one worker answered: {views}"
        registry = Registry(home)
        first = registry.active_version()
        assert set(views.values()) == {first}

        new = registry.add(MLP([784, 16, 10], seed=5), {"parent": first})
        response = httpx2.post(f"{server.url}/api/admin/models/{new}/activate", headers=AUTH)
        assert response.status_code == 200
        promoted = time.monotonic()
        latest: dict[int, tuple[str, float]] = {}
        while time.monotonic() - promoted < 2.0:
            for pid, version in worker_views(server.url, rounds=6).items():
                if version == new and pid not in latest:
                    latest[pid] = (version, time.monotonic() - promoted)
            if len(latest) == 2:
                break
        assert set(latest) == set(views), f"not every worker swapped within 2 s: {latest}"
        # Each swap is in the server's log, in uvicorn's form (the app's INFO lines were lost).
        assert server.log().count(f"INFO:     serving model version {new}") == 2
        print(
            f"\nworkers on the new version after: "
            f"{', '.join(f'{t * 1000:.0f} ms' for _, t in latest.values())}"
        )


def test_simultaneous_retrains_to_two_workers_start_exactly_one_job(tmp_path):
    home = with_mnist(tmp_path / "home")
    with digits_serve(home, tmp_path / "server.log", workers=2) as server:
        for _ in range(3):  # a few rounds, so the pair lands on different workers at least once
            barrier = threading.Barrier(2)
            statuses: list[int] = []
            bodies: list[dict] = []

            def request(barrier=barrier, statuses=statuses, bodies=bodies) -> None:
                with httpx2.Client(headers=AUTH, timeout=30) as client:
                    barrier.wait()
                    response = client.post(f"{server.url}/api/admin/retrain", json=SLOW)
                    statuses.append(response.status_code)
                    bodies.append(response.json())

            threads = [threading.Thread(target=request) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sorted(statuses) == [202, 409], bodies
            job_id = next(b["job_id"] for b in bodies if "job_id" in b)
            conflict = next(b for b in bodies if "error" in b)
            assert conflict["error"]["details"]["job_id"] == job_id
            cancel = httpx2.post(f"{server.url}/api/admin/jobs/{job_id}/cancel", headers=AUTH)
            assert cancel.status_code in (202, 409)
            url = f"{server.url}/api/admin/jobs/{job_id}"
            wait_for(lambda url=url: httpx2.get(url, headers=AUTH).json(), finished, timeout=30)
        assert len(JobStore(home).ids()) == 3
    log = server.log()
    assert TOKEN not in log
    for job_id in JobStore(home).ids():  # an operator sees each job begin and end
        assert re.search(rf"INFO: +job {job_id} started \(process \d+\)", log), log
        assert f"INFO:     job {job_id} ended: cancelled" in log, log


def test_serve_prints_a_generated_token_once_and_never_logs_it(tmp_path):
    home = with_mnist(tmp_path / "home")
    server = digits_serve(home, tmp_path / "server.log", token=None)
    with server:
        text = server.log()
        match = re.search(r"Admin token for this run.*?\n\s*\n\s+(\S+)\n", text, re.DOTALL)
        assert match, text
        token = match.group(1)
        assert len(token) >= 24
        ok = httpx2.get(
            f"{server.url}/api/admin/models", headers={"Authorization": f"Bearer {token}"}
        )
        assert ok.status_code == 200
        assert httpx2.get(f"{server.url}/api/admin/models").status_code == 401
        bad = httpx2.get(f"{server.url}/api/admin/models", headers={"Authorization": "Bearer x"})
        assert bad.status_code == 401
    assert server.log().count(token) == 1  # the banner, and nothing after it


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_exits_non_zero_when_a_worker_cannot_start(tmp_path, workers):
    """With several workers uvicorn returned normally after a worker failed to start, and
    `digits serve` exited 0: a service manager restarting on failure never saw one."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "feedback.db").write_bytes(b"not a database " * 300)  # unreadable: start-up fails
    env = {**os.environ, "DIGITS_HOME": str(home), "DIGITS_ADMIN_TOKEN": TOKEN}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", "0", "--workers", str(workers)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr[-2000:]
    if workers > 1:
        assert "digits serve: a worker could not start" in done.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_stops_serve_cleanly(tmp_path, workers):
    """One worker ended in a KeyboardInterrupt traceback once serve ran uvicorn's server itself
    (uvicorn.run swallowed it)."""
    home = with_mnist(tmp_path / "home")
    env = {**os.environ, "DIGITS_HOME": str(home), "DIGITS_ADMIN_TOKEN": TOKEN}
    command = [sys.executable, "-m", "app.cli", "serve", "--port", "0", "--workers", str(workers)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines = []
        for line in server.stdout:  # until it serves: "Application startup complete."
            lines.append(line)
            if "startup complete" in line:
                break
        server.send_signal(signal.SIGINT)
        out, _ = server.communicate(timeout=30)
    finally:
        server.kill()
    said = "".join(lines) + out
    assert server.returncode == 0, said
    assert "Traceback" not in said and "KeyboardInterrupt" not in said, said
