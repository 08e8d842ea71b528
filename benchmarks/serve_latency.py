"""Serving speed: the real server under load from another process, every figure in the same run.

The server is `uvicorn app.main:create_app --factory` (one worker) in a subprocess, on a fresh
data home; the load generator is `hey` (Debian's package: `apt-get install hey`), a separate Go
process, with keep-alive connections. For each endpoint and each concurrency it runs for a fixed
time and reports p50/p90/p99 latency and requests per second:

    GET  /healthz                      the floor: the HTTP stack alone
    POST /api/predict  JSON pixels     784 numbers in MNIST form
    POST /api/predict  PNG (multipart) a 280×280 canvas drawing, made by the page's canvas.js
                                       in Chromium (``canvas_png``)
    POST /api/predict/batch            100 JSON pixel items

The PNG's time over /healthz is then broken down: decode, preprocess and forward are timed in
this process on the same PNG (medians), and the rest is the request's own work (multipart
parsing, the threadpool hop, the answer). Then: the RSS of the worker over 10,000 predictions
(target ≤ 150 MB, no growth), and JSON predict latency at concurrency 1 idle and while a retrain
job runs (target p99 ≤ 2× idle). The retrain is started through POST /api/admin/retrain when the
data home has mnist.npz, else it is simulated by a `digits train` subprocess at nice 10.

    .venv/bin/python -m benchmarks.serve_latency               # ≈ 2-3 minutes
    .venv/bin/python -m benchmarks.serve_latency --seconds 5 --no-retrain
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from app.config import get_settings
from app.live_server import LiveServer

CONCURRENCY = (1, 8, 32)


# --- payloads ---------------------------------------------------------------------------------


def payloads(tmp: Path) -> dict[str, tuple[str, str, Path | None]]:
    """name → (path, content type, body file) for each measured request."""
    from app.examples import SEVEN_ROWS

    pixels = [round(float(v), 4) for row in SEVEN_ROWS for v in row]
    (tmp / "pixels.json").write_text(json.dumps({"pixels": pixels}))
    (tmp / "batch.json").write_text(json.dumps({"items": [{"pixels": pixels}] * 100}))

    png, made_by = canvas_png()
    print(f"the canvas PNG: {len(png):,} bytes, {made_by}")
    boundary = "benchboundary" + secrets.token_hex(8)
    multipart = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="d.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    (tmp / "canvas.multipart").write_bytes(multipart)
    (tmp / "canvas.png").write_bytes(png)  # for the in-process breakdown
    return {
        "healthz": ("/healthz", "", None),
        "json": ("/api/predict", "application/json", tmp / "pixels.json"),
        "png": (
            "/api/predict",
            f"multipart/form-data; boundary={boundary}",
            tmp / "canvas.multipart",
        ),
        "batch100": ("/api/predict/batch", "application/json", tmp / "batch.json"),
    }


def canvas_png() -> tuple[bytes, str]:
    """The seven of app.examples as the drawing page sends it, and what made it: drawn on a
    280×280 canvas by the page's own static/js/canvas.js and encoded by Chromium; where Chromium
    is missing, by model.pendigits.render, which draws the same shape (encoded by Pillow)."""
    from app.examples import SEVEN_STROKES

    strokes = [pen_points(stroke, 140) for stroke in SEVEN_STROKES]  # the example's canvas
    chromium = shutil.which("chromium")
    if chromium is None:
        from model.pendigits import CANVAS, render

        image = render([[(x * CANVAS, y * CANVAS) for x, y in stroke] for stroke in strokes])
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue(), "drawn by model.pendigits.render (no chromium found)"
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    script = (Path(__file__).parents[1] / "static" / "js" / "canvas.js").read_text()
    script += """
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = EXPORT_SIZE;
        renderStrokes(canvas.getContext("2d"), window.strokes, EXPORT_SIZE, EXPORT_SIZE, "#000");
        window.png = canvas.toDataURL("image/png");
    """
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: errors.append(error))
            page.evaluate("strokes => { window.strokes = strokes; }", strokes)
            page.add_script_tag(content=script, type="module")
            try:
                url = page.wait_for_function("window.png", timeout=10_000).json_value()
            except PlaywrightTimeout:
                problem = errors[0] if errors else "no error reported"
                raise RuntimeError(
                    f"static/js/canvas.js drew nothing in Chromium: {problem}"
                ) from None
        finally:
            browser.close()
    return base64.b64decode(url.split(",", 1)[1]), "drawn by static/js/canvas.js in Chromium"


def pen_points(stroke, side: float, step: float = 4.0) -> list[tuple[float, float]]:
    """A stroke's corners (pixels of a side × side canvas) → points every ``step`` pixels along
    it, in 0..1 units, as a pen on the page records them: the page smooths a stroke through its
    points' midpoints, so three points alone would round a corner a pen keeps."""
    points = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
        steps = max(1, round(np.hypot(x1 - x0, y1 - y0) / step))
        points += [
            (x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps) for t in range(1, steps)
        ]
        points.append((x1, y1))
    return [(x / side, y / side) for x, y in points]


def breakdown(png: bytes, rounds: int = 7, per_round: int = 200) -> dict[str, float]:
    """Median ms per call, in this process, of the steps a PNG prediction makes on the server:
    decode (model.decode), preprocess (model.preprocess.to_mnist), forward (the served model on
    one row, one BLAS thread as the server runs it)."""
    from threadpoolctl import threadpool_limits

    from model.decode import decode_image
    from model.preprocess import to_mnist
    from model.registry import SHIPPED_MODEL, load_model

    network = load_model(SHIPPED_MODEL).network
    image = decode_image(png)
    x = to_mnist(image)[None]
    steps = {
        "decode": lambda: decode_image(png),
        "preprocess": lambda: to_mnist(image),
        "forward": lambda: network.predict(x),
    }
    medians = {}
    with threadpool_limits(1):
        for name, step in steps.items():
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                for _ in range(per_round):
                    step()
                times.append((time.perf_counter() - started) / per_round * 1000)
            medians[name] = float(np.median(times))
    return medians


# --- the server -------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- load -------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hey(
    url: str,
    kind: str,
    body: Path | None,
    concurrency: int,
    *,
    seconds: float = 0,
    requests: int = 0,
    pid: int | None = None,
) -> dict:
    """Run hey for a duration or a request count → latency percentiles (ms), rps, errors, and
    (given the server's pid) the server's CPU time per request, a figure that other load on
    the machine disturbs far less than latency or throughput."""
    cpu_before = cpu_seconds(pid) if pid else 0.0
    cmd = ["hey", "-c", str(concurrency), "-o", "csv"]
    cmd += ["-z", f"{seconds}s"] if seconds else ["-n", str(requests)]
    if body is not None:
        cmd += ["-m", "POST", "-T", kind, "-D", str(body)]
    started = time.perf_counter()
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before if pid else float("nan")
    rows = list(csv.DictReader(io.StringIO(out)))
    lat = np.array([float(r["response-time"]) * 1000 for r in rows])
    ends = [float(r["offset"]) + float(r["response-time"]) for r in rows]
    bad = sum(r["status-code"] != "200" for r in rows)
    expected = requests or len(rows)  # with -z, failed connections leave no row
    span = max(ends) if ends else wall
    if not len(lat):
        return {
            "n": 0,
            "p50": float("nan"),
            "p90": float("nan"),
            "p99": float("nan"),
            "rps": 0.0,
            "errors": expected,
        }
    p50, p90, p99 = np.percentile(lat, [50, 90, 99])
    return {
        "n": len(rows),
        "p50": p50,
        "p90": p90,
        "p99": p99,
        "rps": len(rows) / span,
        "errors": bad + max(0, expected - len(rows)),
        "cpu_us": cpu / len(rows) * 1e6,
    }


def show(name: str, c: int, r: dict) -> None:
    print(
        f"  {name:10s} c={c:<3d} p50 {r['p50']:7.2f} ms  p90 {r['p90']:7.2f} ms  "
        f"p99 {r['p99']:7.2f} ms  {r['rps']:7.0f} req/s  server CPU "
        f"{r.get('cpu_us', float('nan')):6.0f} µs/req  n={r['n']:<6d} "
        f"errors={r['errors']}"
    )


# --- retrain ----------------------------------------------------------------------------------


def start_retrain(base: str, token: str, home: Path) -> tuple[str, object]:
    """Start a training job: the admin API when it answers 202, else a niced `digits train`."""
    body = json.dumps({"epochs": 3, "max_train_samples": 20000, "force": False}).encode()
    request = urllib.request.Request(
        f"{base}/api/admin/retrain",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            if r.status == 202:
                return "admin API (POST /api/admin/retrain)", json.load(r)["job_id"]
    except OSError as e:
        print(f"  admin retrain unavailable ({e}); simulating with a niced `digits train`")
    exe = Path(sys.executable).with_name("digits")
    child = subprocess.Popen(
        [
            "nice",
            "-n",
            "10",
            str(exe),
            "train",
            "--epochs",
            "2",
            "--max-train-samples",
            "20000",
            "--out",
            str(home / "bench-retrain.npz"),
        ],
        env={**os.environ, "DIGITS_HOME": str(home)},
        stdout=subprocess.DEVNULL,
    )
    return "`nice -n 10 digits train` subprocess", child


def job_status(base: str, token: str, job: object) -> str:
    if isinstance(job, subprocess.Popen):
        return "running" if job.poll() is None else "finished"
    request = urllib.request.Request(
        f"{base}/api/admin/jobs/{job}", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        record = json.load(r)
    return record.get("status", "?")


def stop_retrain(base: str, token: str, job: object) -> None:
    if isinstance(job, subprocess.Popen):
        if job.poll() is None:
            job.send_signal(signal.SIGTERM)
        job.wait(30)
        return
    request = urllib.request.Request(
        f"{base}/api/admin/jobs/{job}/cancel",
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    with contextlib.suppress(OSError):  # it may have finished already
        urllib.request.urlopen(request, timeout=10).close()


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3.0, help="load per endpoint × concurrency")
    p.add_argument(
        "--mnist",
        type=Path,
        default=get_settings().home / "mnist.npz",
        help="linked into the server's data home, for the retrain",
    )
    p.add_argument("--memory-requests", type=int, default=10_000)
    p.add_argument("--no-retrain", action="store_true")
    args = p.parse_args(argv)
    if shutil.which("hey") is None:
        raise SystemExit("needs the `hey` load generator: apt-get install hey")

    tmp = Path(tempfile.mkdtemp(prefix="digits-bench-"))
    home = tmp / "home"
    home.mkdir()
    if args.mnist.is_file():
        (home / "mnist.npz").symlink_to(args.mnist.resolve())
    token = secrets.token_urlsafe(24)
    try:
        load = payloads(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    from benchmarks.train_speed import describe_machine

    for line in describe_machine()[:2]:
        print(line)
    live = LiveServer(home, env={"DIGITS_ADMIN_TOKEN": token}, uvicorn_args=("--no-access-log",))
    server, base = live.start().process, live.url
    try:
        for path, kind, body in load.values():  # warm-up: imports, first-call caches
            hey(base + path, kind, body, 2, requests=50)
        print(f"server pid {server.pid}, {args.seconds:g} s per measurement, hey keep-alive")
        # Memory first, on a fresh worker: RSS across 10,000 JSON predictions, sampled in fifths.
        path, kind, body = load["json"]
        samples = [rss_mb(server.pid)]
        step = args.memory_requests // 5
        for _ in range(5):
            hey(base + path, kind, body, 8, requests=step)
            samples.append(rss_mb(server.pid))
        print(f"RSS MB every {step:,} predictions: " + " ".join(f"{m:.1f}" for m in samples))

        results: dict[tuple[str, int], dict] = {}
        for c in CONCURRENCY:
            for name, (url, content_type, payload) in load.items():
                results[name, c] = r = hey(
                    base + url, content_type, payload, c, seconds=args.seconds, pid=server.pid
                )
                show(name, c, r)

        samples.append(rss_mb(server.pid))  # after everything, the batches included
        retrain_line = "retrain: not measured"
        if not args.no_retrain:
            # Idle, during the job, idle again: the busy p99 is compared with the mean of the two
            # idle ones around it, so that a drift in the machine's other load shows up as such.
            path, kind, body = load["json"]
            window = {"seconds": args.seconds * 2, "pid": server.pid}
            idle = hey(base + path, kind, body, 1, **window)
            how, job = start_retrain(base, token, home)
            time.sleep(8)  # past data loading, into the epochs
            status = job_status(base, token, job)
            busy = hey(base + path, kind, body, 1, **window)
            status_after = job_status(base, token, job)
            stop_retrain(base, token, job)
            time.sleep(2)
            idle_after = hey(base + path, kind, body, 1, **window)
            show("json idle", 1, idle)
            show("json+train", 1, busy)
            show("json idle", 1, idle_after)
            idle_p99 = (idle["p99"] + idle_after["p99"]) / 2
            factor = busy["p99"] / idle_p99
            retrain_line = (
                f"retrain via {how} (status {status} → {status_after}): json p99 "
                f"idle {idle['p99']:.2f}/{idle_after['p99']:.2f} ms, during "
                f"{busy['p99']:.2f} ms = {factor:.2f}× idle (target ≤ 2×)"
            )
    finally:
        live.stop()
        png_bytes = (tmp / "canvas.png").read_bytes()
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    png1, json1 = results["png", 1]["p50"], results["json", 1]["p50"]
    floor = results["healthz", 8]["rps"]
    ratios = {n: results[n, 8]["rps"] / floor for n in ("json", "png")}
    errors32 = sum(results[n, 32]["errors"] for n in load)
    errors = sum(r["errors"] for r in results.values())
    print(f"c=1 p50: png {png1:.2f} ms (target ≤ 3), json {json1:.2f} ms (target ≤ 2)")
    healthz1 = results["healthz", 1]["p50"]
    parts = breakdown(png_bytes)
    rest = png1 - healthz1 - sum(parts.values())
    print(
        f"c=1 png p50 over healthz: {png1 - healthz1:.2f} ms (target ≤ 1.5) = decode "
        f"{parts['decode']:.2f} + preprocess {parts['preprocess']:.2f} + forward "
        f"{parts['forward']:.2f} + the rest of the request (multipart, threadpool, answer) "
        f"{rest:.2f} ms; healthz itself {healthz1:.2f} ms"
    )
    print(
        f"c=8 throughput ÷ healthz ({floor:.0f} req/s): json {ratios['json']:.2f}, "
        f"png {ratios['png']:.2f}, batch100 {results['batch100', 8]['rps'] / floor:.3f} "
        f"(= {results['batch100', 8]['rps'] * 100:.0f} predictions/s) "
        f"(target ≥ 0.60)"
    )
    cpu = {n: results[n, 8]["cpu_us"] for n in load}
    print(
        f"c=8 server CPU per request: healthz {cpu['healthz']:.0f} µs, json {cpu['json']:.0f} "
        f"µs, png {cpu['png']:.0f} µs; healthz ÷ json = {cpu['healthz'] / cpu['json']:.2f} "
        f"(the throughput ratio with the load of other work taken out)"
    )
    print(f"errors at c=32: {errors32} (target 0)")
    print(
        f"RSS after {args.memory_requests:,} predictions: {samples[5]:.1f} MB (target ≤ 150), "
        f"growth over them {samples[5] - samples[1]:+.1f} MB; after the whole matrix "
        f"{samples[6]:.1f} MB"
    )
    print(retrain_line)
    print(
        f"serve-latency: png_p50={png1:.2f} ms json_p50={json1:.2f} ms "
        f"ratio_vs_healthz={ratios['json']:.2f} errors={errors}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
