"""Soak: `digits serve --workers 2` under a steady mixed load for minutes, with retrains.

The server is the CLI as it is deployed, on a fresh temporary data home (MNIST hard-linked or
copied in; the registry seeds itself with the shipped model), with a random admin token and the
feedback rate limit set well above what the load posts. From this one process, at a steady
target rate and bounded concurrency (httpx2, keep-alive connections that are renewed every few
dozen requests so that both workers get a share):

    POST /api/predict    JSON pixels, JSON data URL (what the page sends), raw image/png,
                         multipart: real MNIST test digits drawn on a 280×280 canvas
    POST /api/feedback   a data URL with its true label, as the page sends it; every 201 id kept
    GET  /, /admin, /static/..., /healthz

and, spread over the run, full retrain jobs through POST /api/admin/retrain, each followed until
it ends; predictions carry the model version, so the report shows when each promoted version was
first served and the old one last. The load starts once every worker (not only the one that
answered /readyz) says it has a model loaded. A small network cannot pass the quality gate
against the shipped 99.24 % model, so the jobs are sent with `force: true`; what is soaked is
the retrain, promotion and hot swap.

Every request has a timeout; anything but its 2xx is an error (no invalid request is sent).
Every `--sample-seconds` the script reads, from /proc, the RSS, open file descriptors and CPU
time of the supervisor and each worker. It prints per minute: requests, p50/p99 latency,
errors, each worker's RSS, fds and CPU; then errors by kind, the RSS trend after the warm-up,
fds at the start and the end, each retrain with when its version was first and last served,
and whether every feedback post that got 201 is in the store (read with sqlite3, read-only,
after the server has stopped). Like the other benchmarks it prints figures and asserts nothing.

    .venv/bin/python -m benchmarks.soak --minutes 12                 # the soak (≈ 13 min)
    .venv/bin/python -m benchmarks.soak --minutes 3 --retrain '{"hidden_layers": [32],
        "epochs": 1, "max_train_samples": 2000, "augment": false, "force": true}'   # a trial
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import random
import secrets
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import numpy as np
from PIL import Image

from app.config import get_settings
from app.jobs import FINAL
from app.live_server import LiveServer
from benchmarks.serve_latency import cpu_seconds, rss_mb
from benchmarks.soak_report import report, startup_line

# What the load is made of: kind → weight (of 100). Predictions 60, feedback 10, pages 30.
MIX = {
    "predict-json": 25,
    "predict-dataurl": 15,
    "predict-png": 10,
    "predict-multipart": 10,
    "feedback": 10,
    "page-index": 8,
    "page-admin": 4,
    "static": 10,
    "healthz": 8,
}
# The status each kind expects; every other kind expects 200.
EXPECTED = {"feedback": 201, "admin-retrain": 202, "admin-cancel": 202}
STATIC = ("/static/js/app.js", "/static/css/app.css", "/static/js/canvas.js")
# A full retrain, the README's example with 20 epochs: 50-65 s here under the load.
RETRAIN = {
    "hidden_layers": [256, 128],
    "epochs": 20,
    "augment": True,
    "max_train_samples": 20000,
    "force": True,
}


# --- payloads: MNIST test digits as the page would send them -----------------------------------


@dataclass
class Digit:
    label: int
    pixels_json: bytes  # {"pixels": 28 rows of 28} in MNIST form
    png: bytes  # a 280×280 RGBA canvas, transparent, black ink
    data_url: str


def digits(home: Path, count: int, seed: int) -> list[Digit]:
    from model.data import load_mnist

    mnist = load_mnist(home)
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.choice(len(mnist.test_y), size=count, replace=False):
        image = mnist.test_x[i]
        size = int(rng.integers(150, 241))
        ink = Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR)
        canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
        x, y = (int(v) for v in rng.integers(0, 280 - size + 1, size=2))
        canvas.paste(Image.new("RGBA", (size, size), (0, 0, 0, 255)), (x, y), mask=ink)
        buffer = io.BytesIO()
        canvas.save(buffer, format="PNG")
        png = buffer.getvalue()
        rows = np.round(image / 255.0, 3).tolist()
        out.append(
            Digit(
                int(mnist.test_y[i]),
                json.dumps({"pixels": rows}).encode(),
                png,
                "data:image/png;base64," + base64.b64encode(png).decode(),
            )
        )
    return out


# --- the server's processes, from /proc --------------------------------------------------------


def workers_of(parent: int) -> list[int]:
    """uvicorn's worker processes: the parent's children started by multiprocessing's spawn
    (not its resource tracker; a training job is a worker's child, not the parent's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent and b"spawn_main" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return sorted(found)


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_for_workers(base: str, token: str, count: int, seconds: float = 30.0) -> dict:
    """/readyz was answered by one worker. Ask GET /api/admin/worker on new connections until
    `count` workers have answered with a model loaded: pid → the versions each answered with
    (None while it had no model)."""
    answers: dict[int, list] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx2.HTTPError, ValueError, KeyError):
            r = httpx2.get(
                f"{base}/api/admin/worker", headers={"Authorization": f"Bearer {token}"}, timeout=5
            ).json()
            answers.setdefault(r["pid"], []).append(r["serving"])
        if sum(1 for versions in answers.values() if versions[-1]) >= count:
            break
        time.sleep(0.02)
    return answers


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Result:
    start: float  # seconds since the load started
    kind: str
    seconds: float
    outcome: str  # "ok", "HTTP 503", "ReadTimeout", ...
    version: str | None = None  # the model version that answered a prediction
    correct: bool | None = None


@dataclass
class Job:
    id: str = ""
    requested: float = 0.0  # load time when POSTed
    ended: float = 0.0  # load time when the poll first saw it finished
    status: str = "not started"
    reason: str = ""
    version: str | None = None
    promoted_at: float | None = None  # load time of the ACTIVE file's mtime
    result: dict = field(default_factory=dict)


class Soak:
    def __init__(self, args, base: str, token: str, home: Path, server_pid: int, load: list):
        self.args, self.base, self.home, self.server_pid, self.load = (
            args,
            base,
            home,
            server_pid,
            load,
        )
        self.auth = {"Authorization": f"Bearer {token}"}
        self.rng = random.Random(args.seed)
        self.results: list[Result] = []
        self.error_details: list[str] = []
        self.feedback: dict[int, int] = {}  # id → label, for every 201
        self.samples: list[dict] = []  # {t, pid, role, rss, fds, cpu}
        self.jobs: list[Job] = []
        self.roles: dict[int, str] = {}  # worker pid → w1, w2, ...
        self.version: str | None = None  # the last version seen, sent back with feedback
        self.t0 = 0.0  # loop time when the load starts
        self.wall0 = 0.0  # time.time() then
        self.done = asyncio.Event()
        self.startup: dict[int, list] = {}  # worker pid → versions it answered with before the load

    def now(self) -> float:
        return asyncio.get_running_loop().time() - self.t0

    # --- one request ---------------------------------------------------------------------------

    def request(self, kind: str, d: Digit) -> tuple[str, str, dict]:
        json_type = {"Content-Type": "application/json"}
        if kind == "predict-json":
            return "POST", "/api/predict", {"content": d.pixels_json, "headers": json_type}
        if kind == "predict-dataurl":
            body = json.dumps({"image": d.data_url}).encode()
            return "POST", "/api/predict", {"content": body, "headers": json_type}
        if kind == "predict-png":
            return (
                "POST",
                "/api/predict",
                {"content": d.png, "headers": {"Content-Type": "image/png"}},
            )
        if kind == "predict-multipart":
            return "POST", "/api/predict", {"files": {"file": ("d.png", d.png, "image/png")}}
        if kind == "feedback":
            body = {
                "image": d.data_url,
                "label": d.label,
                "predicted": d.label,
                "model_version": self.version,
            }
            return (
                "POST",
                "/api/feedback",
                {"content": json.dumps(body).encode(), "headers": json_type},
            )
        path = {
            "page-index": "/",
            "page-admin": "/admin",
            "healthz": "/healthz",
            "static": self.rng.choice(STATIC),
        }[kind]
        return "GET", path, {}

    async def send(
        self, client: httpx2.AsyncClient, kind: str, method: str, path: str, **kwargs
    ) -> tuple[Result, httpx2.Response | None]:
        """Send one request and record it; the response too if it had the expected status."""
        start = self.now()
        began = time.perf_counter()
        try:
            response = await client.request(method, self.base + path, **kwargs)
            outcome = (
                "ok"
                if response.status_code == EXPECTED.get(kind, 200)
                else f"HTTP {response.status_code}"
            )
            detail = response.text[:300]
        except httpx2.HTTPError as e:
            response, outcome, detail = None, type(e).__name__, str(e)[:300]
        result = Result(start, kind, time.perf_counter() - began, outcome)
        self.results.append(result)
        if outcome != "ok":
            self.error(result, f"{method} {path}: {outcome} {detail}")
            return result, None
        return result, response

    def error(self, result: Result, detail: str) -> None:
        if len(self.error_details) < 50:
            self.error_details.append(f"t={result.start:.1f}s {result.kind} {detail}")

    async def one(
        self, pool: asyncio.Queue, client: httpx2.AsyncClient, used: int, kind: str
    ) -> None:
        try:
            d = self.rng.choice(self.load)
            method, path, kwargs = self.request(kind, d)
            result, response = await self.send(client, kind, method, path, **kwargs)
            try:
                if response is not None and kind.startswith("predict"):
                    answer = response.json()
                    self.version = result.version = answer["model"]["version"]
                    result.correct = answer["digit"] == d.label
                elif response is not None and kind == "feedback":
                    self.feedback[response.json()["id"]] = d.label
            except (ValueError, KeyError, TypeError) as e:  # a 2xx whose body is not the schema
                result.outcome = "bad body"
                self.error(result, f"{method} {path}: {type(e).__name__} {response.text[:300]}")
        finally:
            used += 1
            if used >= self.args.per_connection:  # a new connection: it may reach the other worker
                await client.aclose()
                client, used = self.client(), 0
            pool.put_nowait((client, used))

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            timeout=self.args.timeout, limits=httpx2.Limits(max_connections=1)
        )

    # --- the steady load -----------------------------------------------------------------------

    async def drive(self) -> None:
        """One request every 1/rate s, at most `concurrency` in flight, for `minutes` or
        `max_requests`. When every connection is busy the dispatcher waits (the rate drops; it
        never bursts to catch up by more than a second)."""
        pool: asyncio.Queue = asyncio.Queue()
        for _ in range(self.args.concurrency):
            pool.put_nowait((self.client(), 0))
        kinds, weights = list(MIX), list(MIX.values())
        interval, due, tasks = 1.0 / self.args.rate, 0.0, set()
        loop = asyncio.get_running_loop()
        for _ in range(self.args.max_requests):
            if due >= self.args.minutes * 60:
                break
            await asyncio.sleep(max(0.0, due - self.now()))
            client, used = await pool.get()  # a free connection
            kind = self.rng.choices(kinds, weights)[0]
            task = loop.create_task(self.one(pool, client, used, kind))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            due = max(due + interval, self.now() - 1.0)
        await asyncio.gather(*tasks)
        while not pool.empty():
            client, _ = pool.get_nowait()
            await client.aclose()

    # --- /proc sampling ------------------------------------------------------------------------

    def sample(self) -> None:
        t = self.now() if self.t0 else 0.0
        pids = [("parent", self.server_pid)] + [
            (self.roles.setdefault(pid, f"w{len(self.roles) + 1}"), pid)
            for pid in workers_of(self.server_pid)
        ]  # a worker uvicorn replaces gets a role of its own: w3, ...
        for role, pid in pids:
            with contextlib.suppress(OSError):
                self.samples.append(
                    {
                        "t": round(t, 1),
                        "role": role,
                        "pid": pid,
                        "rss": round(rss_mb(pid), 2),
                        "fds": fd_count(pid),
                        "cpu": round(cpu_seconds(pid), 2),
                    }
                )

    async def sampler(self) -> None:
        while not self.done.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), self.args.sample_seconds)
        self.sample()

    # --- retrains ------------------------------------------------------------------------------

    async def retrains(self) -> None:
        """Start each job no earlier than its slot (spread over the run) and `gap` s after the
        previous one ended; follow it to the end. A job is not started when the last one's
        duration says it could not end before the load does (the first is always started)."""
        args, total = self.args, self.args.minutes * 60
        spacing = (total - args.first_retrain) / max(1, args.retrains)
        last_took = None
        async with httpx2.AsyncClient(timeout=args.timeout, headers=self.auth) as client:
            for k in range(args.retrains):
                job = Job()
                self.jobs.append(job)
                start_at = args.first_retrain + k * spacing
                if k:
                    start_at = max(start_at, self.jobs[k - 1].ended + args.gap)
                if start_at + (last_took or 0) * 1.2 + 30 > total:
                    job.status = "not started (would not end before the load does)"
                    continue
                await asyncio.sleep(max(0.0, start_at - self.now()))
                config = {**json.loads(args.retrain), "seed": k + 1}
                job.requested = self.now()
                _, started = await self.send(
                    client, "admin-retrain", "POST", "/api/admin/retrain", json=config
                )
                if started is None:
                    job.status = "refused"
                    continue
                job.id, job.status = started.json()["job_id"], "queued"
                deadline = job.requested + args.job_timeout
                while job.status not in FINAL and self.now() < deadline:
                    await asyncio.sleep(1.0)
                    _, polled = await self.send(
                        client, "admin-poll", "GET", f"/api/admin/jobs/{job.id}"
                    )
                    if polled is not None:
                        record = polled.json()
                        job.status, job.reason = record["status"], record.get("reason") or ""
                        job.result = record.get("result") or {}
                job.ended = self.now()
                last_took = job.ended - job.requested
                if job.status not in FINAL:
                    await self.send(
                        client, "admin-cancel", "POST", f"/api/admin/jobs/{job.id}/cancel"
                    )
                    job.status = f"cancelled by the soak after {args.job_timeout:.0f} s"
                if job.result.get("promoted"):
                    job.version = job.result["version"]
                    mtime = (self.home / "models" / "ACTIVE").stat().st_mtime
                    job.promoted_at = mtime - self.wall0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self.sample()  # before the load: the fds and RSS "at start"
        self.t0, self.wall0 = loop.time(), time.time()
        sampler = loop.create_task(self.sampler())
        retrains = loop.create_task(self.retrains())
        try:
            await self.drive()
            await retrains  # already over, unless the last job outlived the load
        finally:
            retrains.cancel()
            self.done.set()
            await sampler


def stored_feedback(home: Path) -> dict[int, int]:
    uri = f"file:{home / 'feedback.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        return dict(db.execute("SELECT id, label FROM feedback"))


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=12.0, help="how long the load runs")
    p.add_argument("--rate", type=float, default=40.0, help="target requests per second")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight at most")
    p.add_argument("--max-requests", type=int, default=100_000, help="a bound on the total")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=10.0, help="per request, in seconds")
    p.add_argument(
        "--per-connection",
        type=int,
        default=50,
        help="requests on one keep-alive connection before a new one",
    )
    p.add_argument("--retrains", type=int, default=2)
    p.add_argument("--retrain", default=json.dumps(RETRAIN), help="the retrain body (JSON)")
    p.add_argument("--first-retrain", type=float, default=60.0, help="seconds into the load")
    p.add_argument("--gap", type=float, default=30.0, help="seconds between jobs at least")
    p.add_argument("--job-timeout", type=float, default=600.0, help="a job is cancelled after")
    p.add_argument("--sample-seconds", type=float, default=10.0, help="/proc sampling period")
    p.add_argument("--warmup", type=float, default=120.0, help="seconds left out of RSS trends")
    p.add_argument("--digits", type=int, default=300, help="distinct MNIST test digits sent")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mnist", type=Path, default=get_settings().home / "mnist.npz")
    p.add_argument("--json", type=Path, help="write every figure here")
    p.add_argument("--keep-home", action="store_true", help="keep the data home and server log")
    args = p.parse_args(argv)
    if not args.mnist.is_file():
        raise SystemExit(f"needs the MNIST cache at {args.mnist}: digits data fetch")

    tmp = Path(tempfile.mkdtemp(prefix="digits-soak-"))
    home, log_path = tmp / "home", tmp / "server.log"
    home.mkdir()
    try:
        os.link(args.mnist, home / "mnist.npz")
    except OSError:
        shutil.copyfile(args.mnist, home / "mnist.npz")
    token = secrets.token_urlsafe(24)
    feedback_per_minute = args.rate * 60 * MIX["feedback"] / sum(MIX.values())
    env = {
        "DIGITS_ADMIN_TOKEN": token,
        "PYTHONUNBUFFERED": "1",
        # 10× what the load posts: the limiter runs on every post and never refuses one
        "DIGITS_FEEDBACK_RATE_LIMIT": str(int(feedback_per_minute * 10) + 60),
    }
    load = digits(home, args.digits, args.seed)
    server = None
    stored = None
    try:
        live = LiveServer(home, workers=args.workers, env=env, log=log_path).start()
        server, base = live.process, live.url
        answers = wait_for_workers(base, token, args.workers)
        print(
            f"server: supervisor pid {server.pid}, workers {workers_of(server.pid)}, {base}, "
            f"data home {home}; feedback limit {env['DIGITS_FEEDBACK_RATE_LIMIT']}/min; "
            f"log {log_path}"
        )
        soak = Soak(args, base, token, home, server.pid, load)
        soak.startup = answers
        print(startup_line(answers, args.workers))
        started = time.monotonic()
        asyncio.run(soak.run())
        elapsed = time.monotonic() - started
    finally:
        if server is not None:
            live.stop()
        with contextlib.suppress(sqlite3.Error):
            stored = stored_feedback(home)  # after a clean stop: what is durably stored
        log = log_path.read_text(errors="replace") if log_path.exists() else ""
        if not args.keep_home:
            shutil.rmtree(tmp, ignore_errors=True)
    figures = report(soak, stored, log, elapsed)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
