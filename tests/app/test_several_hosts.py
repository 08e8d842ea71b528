"""Two hosts on one machine: two `digits serve --workers 2`, each with its own data home (only the
first has MNIST), on two ports, sharing one PostgreSQL database.

They share the feedback, the model (a retrain on one is served by both within 2 s), the one-job
lock (a second retrain, sent to the other, gets 409), the count of wrong admin tokens, and the
jobs: when the host running a job is killed with SIGKILL, the other sees the job `interrupted`
once its lease runs out, and the active model is unchanged. A short soak runs across both.
The tests share the two hosts and run in this order (the last one kills the second host).
"""

from __future__ import annotations

import time

import httpx2
import pytest
from admin_support import AUTH, SLOW, TINY, TOKEN

from benchmarks.several_hosts import describe, run, start_hosts

pytestmark = pytest.mark.slow
LEASE_SECONDS = 3


@pytest.fixture(scope="module")
def hosts(postgres_cluster, tmp_path_factory):
    url = postgres_cluster.new_database()
    env = {
        "DIGITS_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "DIGITS_FEEDBACK_RATE_LIMIT": "0",  # the soak posts far more than a person would
        "DIGITS_ADMIN_FAILURE_LIMIT": "4",
        "DIGITS_TRUSTED_PROXIES": "127.0.0.3",  # a stand-in for nginx
    }
    started = start_hosts(url, tmp_path_factory.mktemp("hosts"), TOKEN, env)
    try:
        yield started, url
    finally:
        for host in started:
            host.stop()


def _job(base: str, job_id: str) -> dict:
    return httpx2.get(f"{base}/api/admin/jobs/{job_id}", headers=AUTH, timeout=30).json()


def _wait(base: str, job_id: str, done, seconds: float = 120.0) -> dict:
    deadline = time.monotonic() + seconds
    while not done(job := _job(base, job_id)):
        assert time.monotonic() < deadline, f"timed out; the job: {job}"
        time.sleep(0.1)
    return job


def _serving(base: str, answers: int = 8) -> set[str]:
    """The versions that ``answers`` predictions on new connections (any worker) came from."""
    pixels = {"pixels": [0.0] * 300 + [1.0] * 100 + [0.0] * 384}
    versions = set()
    for _ in range(answers):
        r = httpx2.post(f"{base}/api/predict", json=pixels, timeout=30)
        versions.add(r.json()["model"]["version"])
    return versions


def test_feedback_posted_to_one_host_is_listed_by_the_other(hosts):
    (a, b), _ = hosts
    pixels = [0.0] * 400 + [1.0] * 100 + [0.0] * 284
    posted = httpx2.post(f"{a.url}/api/feedback", json={"pixels": pixels, "label": 4}, timeout=30)
    assert posted.status_code == 201
    listed = httpx2.get(f"{b.url}/api/admin/feedback", headers=AUTH, timeout=30).json()
    assert posted.json()["id"] in [item["id"] for item in listed["items"]]
    # Each host says which database it shares, at start-up, as "data home:" says its folder.
    assert all("shared database: digits@/" in host.log() for host in (a, b))


def test_a_retrain_on_one_is_served_by_both_within_2_s_and_a_second_one_gets_409(hosts):
    (a, b), _ = hosts
    before = _serving(a.url) | _serving(b.url)
    assert len(before) == 1
    forced = {**TINY, "force": True}
    started = httpx2.post(f"{a.url}/api/admin/retrain", json=forced, headers=AUTH, timeout=30)
    assert started.status_code == 202
    job_id = started.json()["job_id"]
    second = httpx2.post(f"{b.url}/api/admin/retrain", json=TINY, headers=AUTH, timeout=30)
    assert second.status_code == 409
    assert second.json()["error"]["details"]["job_id"] == job_id
    job = _wait(b.url, job_id, lambda j: j["status"] not in ("queued", "running"))
    assert job["status"] == "succeeded", job
    new = job["result"]["version"]
    # The job wrote "succeeded" just after it activated the version: within 2 s of that, every
    # worker of both hosts answers with it.
    seen = time.monotonic()
    while (_serving(a.url) | _serving(b.url)) != {new}:
        assert time.monotonic() - seen < 2.0, "both hosts were not serving the new model in 2 s"
        time.sleep(0.05)
    print(f"both hosts served {new} {time.monotonic() - seen:.2f} s after 'succeeded' was seen")


def test_wrong_admin_tokens_sent_to_both_hosts_are_counted_together(hosts):
    (a, b), _ = hosts
    # From an address of its own (127.0.0.2 is loopback too), so the lockout it earns is its own.
    # Its X-Forwarded-For is ignored: it is not a trusted proxy.
    wrong = {"Authorization": "Bearer not-the-token-at-all-0000"}
    with httpx2.Client(transport=httpx2.HTTPTransport(local_address="127.0.0.2")) as client:
        codes = [
            client.get(
                f"{host.url}/api/admin/jobs", headers=wrong | {"X-Forwarded-For": ip}
            ).status_code
            for host, ip in zip((a, b, a, b), ("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"))
        ]
        assert codes == [401, 401, 401, 401]  # the limit is 4, over both hosts
        assert client.get(f"{b.url}/api/admin/jobs", headers=wrong).status_code == 429
        assert client.get(f"{a.url}/api/admin/jobs", headers=AUTH).status_code == 429
    assert httpx2.get(f"{a.url}/api/admin/jobs", headers=AUTH, timeout=30).status_code == 200
    # Behind the trusted proxy, each client is the address it forwards.
    with httpx2.Client(transport=httpx2.HTTPTransport(local_address="127.0.0.3")) as proxy:
        for host in (a, b, a, b, a):
            forwarded = wrong | {"X-Forwarded-For": "203.0.113.1"}
            proxy.get(f"{host.url}/api/admin/jobs", headers=forwarded)
        other = AUTH | {"X-Forwarded-For": "203.0.113.2"}
        assert proxy.get(f"{b.url}/api/admin/jobs", headers=other).status_code == 200
        again = wrong | {"X-Forwarded-For": "203.0.113.1"}
        assert proxy.get(f"{b.url}/api/admin/jobs", headers=again).status_code == 429


def test_a_short_soak_across_both_hosts_loses_nothing(hosts):
    (a, b), url = hosts
    report = run([a, b], url, TOKEN, seconds=20, rate=10, retrain_at=5)
    print(describe(report, 20))
    assert report.errors == []
    assert len(report.feedback_ids) > 10
    assert report.feedback_in_database == len(report.feedback_ids)
    assert report.job["status"] == "succeeded"
    assert all(after is None or after < 2.0 for after in report.last_old_answer.values())


def test_killing_the_host_that_runs_a_job_leaves_it_interrupted_and_the_model_unchanged(hosts):
    (a, b), _ = hosts
    active = _serving(a.url)
    # The job runs on b, whose data home has no MNIST: it reads it through the database.
    started = httpx2.post(f"{b.url}/api/admin/retrain", json=SLOW, headers=AUTH, timeout=30)
    assert started.status_code == 202
    job_id = started.json()["job_id"]
    _wait(a.url, job_id, lambda j: j["status"] == "running" and j.get("progress"))
    b.kill()  # SIGKILL to the host's every process: supervisor, workers and the job
    killed = time.monotonic()
    job = _wait(a.url, job_id, lambda j: j["status"] != "running", seconds=LEASE_SECONDS + 15)
    assert job["status"] == "interrupted" and "lease" in job["reason"]
    print(f"interrupted, seen from the other host, {time.monotonic() - killed:.1f} s after SIGKILL")
    assert time.monotonic() - killed < LEASE_SECONDS + 5
    assert _serving(a.url) == active
    models = httpx2.get(f"{a.url}/api/admin/models", headers=AUTH, timeout=30).json()
    assert models["active"] in active
