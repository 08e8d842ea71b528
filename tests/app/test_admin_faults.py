"""Faults that must lose nothing: a killed job, a cancelled job, a server restart mid-job, and
predictions that keep answering while a job trains."""

from __future__ import annotations

import os
import signal
import statistics
import time

import httpx2
import pytest
from admin_support import AUTH, SLOW, TINY, digits_serve, finished, training, wait_for
from drawings import SEVEN_PIXELS

from app.jobs import JobStore
from model.registry import Registry

SEVEN = {"pixels": SEVEN_PIXELS}


def start(client, body) -> str:
    response = client.post("/api/admin/retrain", json=body, headers=AUTH)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def job_of(client, job_id):
    return lambda: client.get(f"/api/admin/jobs/{job_id}", headers=AUTH).json()


def lock_is_free(home, timeout: float = 5.0) -> bool:
    """True once the job lock can be taken (the job process lets go of it as it exits)."""
    deadline = time.monotonic() + timeout
    while (fd := JobStore(home).try_lock()) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    os.close(fd)
    return True


def test_a_job_killed_mid_epoch_fails_and_loses_nothing(admin, home):
    registry = Registry(home)
    active, versions = registry.active_version(), registry.versions()
    job_id = start(admin, SLOW)
    job = wait_for(job_of(admin, job_id), training, timeout=60)
    assert job["progress"]["batch_fraction"] < 1 or job["progress"]["epoch"] < SLOW["epochs"]

    busy = admin.post("/api/admin/retrain", json=TINY, headers=AUTH)
    assert busy.status_code == 409
    assert busy.json()["error"]["details"]["job_id"] == job_id

    os.kill(job["pid"], signal.SIGKILL)
    job = wait_for(job_of(admin, job_id), finished, timeout=20)
    assert job["status"] in {"failed", "interrupted"}
    assert "SIGKILL" in job["reason"]
    assert registry.active_version() == active and registry.versions() == versions
    assert lock_is_free(home)

    again = wait_for(job_of(admin, start(admin, TINY)), finished, timeout=60)
    assert again["status"] in {"succeeded", "rejected"}  # it ran to the end


def test_a_cancelled_job_writes_nothing(admin, home):
    registry = Registry(home)
    active, versions = registry.active_version(), registry.versions()
    job_id = start(admin, {**SLOW, "force": True})  # force: it would be promoted if it finished
    wait_for(job_of(admin, job_id), training, timeout=60)

    response = admin.post(f"/api/admin/jobs/{job_id}/cancel", headers=AUTH)
    assert response.status_code == 202
    job = wait_for(job_of(admin, job_id), finished, timeout=20)
    assert job["status"] == "cancelled" and job["reason"] == "cancelled by an admin"
    assert job["result"] is None
    assert registry.active_version() == active and registry.versions() == versions
    assert lock_is_free(home)
    with admin.stream("GET", f"/api/admin/jobs/{job_id}/events", headers=AUTH) as stream:
        last = [line for line in stream.iter_lines() if line.startswith("data: ")][-1]
    assert '"status": "cancelled"' in last


def test_predictions_keep_answering_while_a_job_trains(admin):
    def latencies(seconds: float) -> list[float]:
        times, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            t = time.perf_counter()
            response = admin.post("/api/predict", json=SEVEN)
            times.append(time.perf_counter() - t)
            assert response.status_code == 200 and response.json()["digit"] == 7
        return times

    latencies(0.3)  # warm-up: first-call costs are not what this measures
    idle = latencies(1.5)
    job_id = start(admin, SLOW)
    wait_for(job_of(admin, job_id), training, timeout=60)
    busy = latencies(3.0)
    assert job_of(admin, job_id)()["status"] == "running"  # it really trained meanwhile
    admin.post(f"/api/admin/jobs/{job_id}/cancel", headers=AUTH)
    wait_for(job_of(admin, job_id), finished, timeout=20)

    def ms(q, xs):
        return 1000 * statistics.quantiles(xs, n=100)[q - 1]

    print(
        f"\npredict latency idle: p50 {ms(50, idle):.2f} ms, p99 {ms(99, idle):.2f} ms "
        f"({len(idle)} requests); during a job: p50 {ms(50, busy):.2f} ms, "
        f"p99 {ms(99, busy):.2f} ms ({len(busy)} requests)"
    )
    assert len(busy) > 50  # it answered steadily, not once in a while


@pytest.mark.slow
def test_a_server_restart_during_a_job_interrupts_it_and_serves_the_last_active(home, tmp_path):
    registry = Registry(home)
    log = tmp_path / "server.log"
    server = digits_serve(home, log).start()
    try:
        active = httpx2.get(f"{server.url}/api/model").json()["version"]
        response = httpx2.post(
            f"{server.url}/api/admin/retrain", json={**SLOW, "force": True}, headers=AUTH
        )
        assert response.status_code == 202
        job_id = response.json()["job_id"]
        wait_for(lambda: JobStore(home).read(job_id), training, timeout=60)
    finally:
        server.kill()  # a crash: supervisor, worker and job all get SIGKILL

    with digits_serve(home, log) as again:
        job = httpx2.get(f"{again.url}/api/admin/jobs/{job_id}", headers=AUTH).json()
        assert job["status"] == "interrupted", job
        assert httpx2.get(f"{again.url}/api/model").json()["version"] == active
        assert registry.active_version() == active
        assert lock_is_free(home)
        prediction = httpx2.post(f"{again.url}/api/predict", json=SEVEN).json()
        assert prediction["model"]["version"] == active
