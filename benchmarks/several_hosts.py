"""Two replicas sharing one PostgreSQL, soaked: predictions, feedback and a retrain across both.

Two `digits serve --workers 2` instances, each with its own data home (only the first has MNIST:
the job and the second replica get it through the database), on two loopback ports, with one
database: a throwaway cluster started here (``app/db/throwaway.py``), or ``--database-url``.
Started at the same moment, so their migrations race (under the database's lock).

The load, spread evenly over both replicas from a few threads at a steady rate:

    POST /api/predict    JSON pixels and raw PNG canvases of real MNIST test digits
    POST /api/feedback   a canvas as a data URL with its true label; every 201 id is kept
    GET  /api/model, /healthz

and, once, a retrain (small, forced) started on the first replica and followed from the second.
Predictions carry the model version that answered, so the report says, for each replica, when
the last answer from the old model was asked for, counted from the promotion (the database's
clock of the activation). At the end every feedback id that got 201 is looked up in the
database. Like the other benchmarks it prints figures and asserts nothing;
``tests/app/test_several_hosts.py`` runs a short one and asserts on what it returns.

    .venv/bin/python -m benchmarks.several_hosts --minutes 3
"""

from __future__ import annotations

import argparse
import random
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import numpy as np
import psycopg

from app.live_server import LiveServer
from benchmarks.soak import Digit, digits

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT / "var" / "mnist.npz"
# A retrain that takes a few seconds; forced, as a small net cannot pass the shipped model's gate.
RETRAIN = {
    "hidden_layers": [32],
    "epochs": 1,
    "max_train_samples": 2000,
    "augment": False,
    "force": True,
}
MIX = {"predict-json": 40, "predict-png": 20, "feedback": 20, "model": 10, "healthz": 10}
EXPECTED = {"feedback": 201}


def start_hosts(
    database_url: str,
    root: Path,
    token: str,
    env: Mapping[str, str] | None = None,
    workers: int = 2,
) -> list[LiveServer]:
    """Two replicas on one database, started together; the first data home has MNIST."""
    homes = [root / "host-a", root / "host-b"]
    for home in homes:
        home.mkdir(parents=True, exist_ok=True)
    if not (homes[0] / "mnist.npz").exists():
        (homes[0] / "mnist.npz").symlink_to(MNIST)
    settings = {"DIGITS_DATABASE_URL": database_url, "DIGITS_ADMIN_TOKEN": token, **(env or {})}
    hosts = [
        LiveServer(home, workers=workers, env=settings, log=home / "server.log") for home in homes
    ]
    errors: list[Exception] = []

    def start(host: LiveServer) -> None:
        try:
            host.start(timeout=120)
        except Exception as e:  # reported below, with the other host stopped
            errors.append(e)

    threads = [threading.Thread(target=start, args=(host,)) for host in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for host in hosts:
            host.stop()
        raise errors[0]
    return hosts


@dataclass
class Answer:
    host: int
    kind: str
    started: float  # time.time() when sent
    seconds: float
    outcome: str  # "ok", or what went wrong
    version: str | None = None


@dataclass
class Report:
    answers: list[Answer] = field(default_factory=list)
    feedback_ids: list[int] = field(default_factory=list)
    feedback_in_database: int = 0
    job: dict = field(default_factory=dict)
    promoted_at: float | None = None  # the database's clock, as time.time()
    last_old_answer: dict[int, float | None] = field(default_factory=dict)  # host → s after

    @property
    def errors(self) -> list[Answer]:
        return [a for a in self.answers if a.outcome != "ok"]


class Load:
    """The client side: a steady mix of requests over both hosts."""

    def __init__(self, hosts: list[LiveServer], token: str, samples: list[Digit]):
        self.hosts, self.token, self.samples = hosts, token, samples
        self.report = Report()
        self.lock = threading.Lock()
        self.kinds = [k for k, weight in MIX.items() for _ in range(weight)]

    def request(self, client: httpx2.Client, host: int, kind: str, rng: random.Random) -> None:
        d = rng.choice(self.samples)
        base = self.hosts[host].url
        started = time.time()
        version, outcome = None, "ok"
        try:
            if kind == "predict-json":
                r = client.post(
                    f"{base}/api/predict",
                    content=d.pixels_json,
                    headers={"Content-Type": "application/json"},
                )
            elif kind == "predict-png":
                r = client.post(
                    f"{base}/api/predict", content=d.png, headers={"Content-Type": "image/png"}
                )
            elif kind == "feedback":
                r = client.post(
                    f"{base}/api/feedback", json={"image": d.data_url, "label": d.label}
                )
            elif kind == "model":
                r = client.get(f"{base}/api/model")
            else:
                r = client.get(f"{base}/healthz")
            if r.status_code != EXPECTED.get(kind, 200):
                outcome = f"HTTP {r.status_code}: {r.text[:120]}"
            elif kind.startswith("predict"):
                version = r.json()["model"]["version"]
            elif kind == "model":
                version = r.json()["version"]
            elif kind == "feedback":
                with self.lock:
                    self.report.feedback_ids.append(r.json()["id"])
        except httpx2.HTTPError as e:
            outcome = type(e).__name__
        answer = Answer(host, kind, started, time.time() - started, outcome, version)
        with self.lock:
            self.report.answers.append(answer)

    def drive(self, seconds: float, rate: float, threads: int = 4) -> None:
        """``rate`` requests a second in all, for ``seconds``, from ``threads`` threads."""
        stop_at = time.monotonic() + seconds

        def worker(n: int) -> None:
            rng = random.Random(n)
            interval = threads / rate
            next_at = time.monotonic() + rng.random() * interval
            with httpx2.Client(timeout=30) as client:
                sent = 0
                while (now := time.monotonic()) < stop_at:
                    if now < next_at:
                        time.sleep(next_at - now)
                    next_at += interval
                    self.request(client, (n + sent) % 2, rng.choice(self.kinds), rng)
                    sent += 1

        pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    def retrain(self, after: float, config: dict) -> None:
        """After ``after`` seconds, start a job on the first host and follow it from the
        second until it ends."""
        time.sleep(after)
        auth = {"Authorization": f"Bearer {self.token}"}
        a, b = (host.url for host in self.hosts)
        started = httpx2.post(f"{a}/api/admin/retrain", json=config, headers=auth, timeout=30)
        if started.status_code != 202:
            self.report.job = {"status": f"not started: HTTP {started.status_code}"}
            return
        job_id = started.json()["job_id"]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            job = httpx2.get(f"{b}/api/admin/jobs/{job_id}", headers=auth, timeout=30).json()
            if job["status"] not in ("queued", "running"):
                self.report.job = job
                return
            time.sleep(0.2)
        self.report.job = {"id": job_id, "status": "still running after 300 s"}


def run(
    hosts: list[LiveServer],
    database_url: str,
    token: str,
    seconds: float,
    rate: float,
    retrain_at: float | None = None,
    samples: int = 64,
) -> Report:
    """The soak: the load for ``seconds``, with a retrain after ``retrain_at`` seconds; then
    every 201'd feedback id looked up in the database."""
    load = Load(hosts, token, digits(MNIST.parent, samples, seed=1))
    helper = None
    if retrain_at is not None:
        helper = threading.Thread(target=load.retrain, args=(retrain_at, RETRAIN))
        helper.start()
    load.drive(seconds, rate)
    if helper is not None:
        helper.join()
    report = load.report
    with psycopg.connect(database_url) as connection:
        report.feedback_in_database = connection.execute(
            "SELECT COUNT(*) FROM feedback WHERE id = ANY(%s)", (report.feedback_ids,)
        ).fetchone()[0]
        changed = connection.execute("SELECT EXTRACT(EPOCH FROM changed) FROM active_model")
        promoted = report.job.get("result", {}) or {}
        if promoted.get("version"):
            report.promoted_at = float(changed.fetchone()[0])
    if report.promoted_at is not None:
        new = report.job["result"]["version"]
        for host in range(len(hosts)):
            old = [
                a.started
                for a in report.answers
                if a.host == host
                and a.version
                and a.version != new
                and a.started > report.promoted_at
            ]
            report.last_old_answer[host] = max(old) - report.promoted_at if old else None
    return report


def describe(report: Report, seconds: float) -> str:
    """The figures, as printed."""
    lines = [
        f"{len(report.answers)} requests in {seconds:.0f} s over 2 replicas, "
        f"{len(report.errors)} errors"
    ]
    for kind in MIX:
        times = sorted(a.seconds for a in report.answers if a.kind == kind and a.outcome == "ok")
        if times:
            p50, p99 = (1000 * float(np.percentile(times, q)) for q in (50, 99))
            lines.append(f"  {kind:<13} {len(times):>6}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    for outcome, n in Counter(a.outcome for a in report.errors).most_common(5):
        lines.append(f"  error ×{n}: {outcome}")
    job = report.job
    lines.append(f"retrain: {job.get('status', 'none')} {job.get('reason', '') or ''}"[:200])
    for host, after in report.last_old_answer.items():
        seen = "no answer from the old model after it" if after is None else f"{after:.2f} s"
        lines.append(f"  replica {'AB'[host]}: last answer from the old model asked {seen}")
    lines.append(
        f"feedback: {len(report.feedback_ids)} got 201, "
        f"{report.feedback_in_database} of them in the database"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests a second, in all")
    parser.add_argument("--database-url", help="an empty database (default: a throwaway one)")
    args = parser.parse_args(argv)
    from app.db.throwaway import Cluster, find_binaries

    cluster = None
    url = args.database_url
    if url is None:
        cluster = Cluster(find_binaries()).start()
        url = cluster.new_database()
    token = secrets.token_urlsafe(24)
    seconds = args.minutes * 60
    env = {"DIGITS_FEEDBACK_RATE_LIMIT": "0", "DIGITS_JOB_LEASE_SECONDS": "5"}
    try:
        with tempfile.TemporaryDirectory(prefix="digits-hosts-") as root:
            hosts = start_hosts(url, Path(root), token, env)
            try:
                report = run(hosts, url, token, seconds, args.rate, retrain_at=seconds / 3)
            finally:
                for host in hosts:
                    host.stop()
        print(describe(report, seconds))
        ok = not report.errors and report.feedback_in_database == len(report.feedback_ids)
        print(
            f"several-hosts: requests={len(report.answers)} errors={len(report.errors)} "
            f"feedback_lost={len(report.feedback_ids) - report.feedback_in_database} "
            f"job={report.job.get('status')} {'OK' if ok else 'PROBLEMS'}"
        )
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
