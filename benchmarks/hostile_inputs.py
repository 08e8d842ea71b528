"""The hardening review's attacks, replayed against a real server: how long each holds it.

    .venv/bin/python -m benchmarks.hostile_inputs [--workers N]

Each attack prints its answers (status codes), how long it took from the client's side, and the
median latency of ``GET /api/model`` (a plain ``def`` route: it needs a threadpool thread, so it
shows a starved pool) while the attack runs, next to the same median taken idle in this run:

- ``scan-bomb-288k``: one 288 kB progressive JPEG of 20,000 scans, to /api/predict and to
  /api/feedback (it took 8.7 s and 21.9 s before the fix);
- ``scan-bomb-2m``: a 2 MB one of 140,000 scans, to /api/predict (66 s before);
- ``feedback-flood``: 45 concurrent feedback posts of a 29 kB one (GET /api/model took 29 s);
- ``batch-4mp``: one batch of 1,000 4-megapixel PNG data URLs, 7 MB (served in 68 s).

The images are made by ``tests/hostile_images.py``, the same ones the tests send.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
from PIL import Image, ImageDraw

from app.live_server import ROOT, LiveServer

sys.path.insert(0, str(ROOT / "tests"))  # the attack files live with the tests that send them
from hostile_images import encode, jpeg_scan_bomb  # noqa: E402

JPEG = {"Content-Type": "image/jpeg"}


def model_latency(client: httpx2.Client, stop: threading.Event, samples: list[float]) -> None:
    """GET /api/model every 50 ms until stop, recording each latency in ms."""
    while not stop.is_set():
        started = time.perf_counter()
        client.get("/api/model", timeout=120)
        samples.append((time.perf_counter() - started) * 1000)
        stop.wait(0.05)


def attack(url: str, name: str, send) -> None:
    """Run send(client) → list of status codes, with /api/model measured alongside."""
    stop, samples = threading.Event(), []
    with httpx2.Client(base_url=url, timeout=300) as client, httpx2.Client(base_url=url) as probe:
        watcher = threading.Thread(target=model_latency, args=(probe, stop, samples))
        watcher.start()
        started = time.perf_counter()
        statuses = send(client)
        seconds = time.perf_counter() - started
        stop.set()
        watcher.join()
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(
        f"hostile: {name} answers={counts} seconds={seconds:.2f} "
        f"model_p50_ms={statistics.median(samples):.1f} model_max_ms={max(samples):.1f}",
        flush=True,
    )


def post_image(client: httpx2.Client, path: str, data: bytes) -> int:
    return client.post(path, content=data, headers=JPEG).status_code


def four_megapixel_data_url() -> str:
    image = Image.new("L", (2000, 2000), 255)
    ImageDraw.Draw(image).line((1000, 300, 1000, 1700), fill=0, width=120)
    return "data:image/png;base64," + base64.b64encode(encode(image, "PNG")).decode()


def idle_model_p50(url: str) -> float:
    with httpx2.Client(base_url=url) as client:
        times = []
        for _ in range(40):
            started = time.perf_counter()
            client.get("/api/model")
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="server workers (default 1)")
    args = parser.parse_args()
    small, medium, large = jpeg_scan_bomb(2_000), jpeg_scan_bomb(20_000), jpeg_scan_bomb(140_000)
    batch = {"items": [{"image": four_megapixel_data_url()}] * 1000}

    def one_of_each(client: httpx2.Client) -> list[int]:
        return [
            post_image(client, "/api/predict", medium),
            post_image(client, "/api/feedback?label=1", medium),
        ]

    def flood(client: httpx2.Client) -> list[int]:
        with ThreadPoolExecutor(45) as pool:
            return list(
                pool.map(lambda _: post_image(client, "/api/feedback?label=1", small), range(45))
            )

    home = Path(os.environ.get("DIGITS_HOME") or tempfile.mkdtemp(prefix="digits-hostile-"))
    env = {"DIGITS_FEEDBACK_RATE_LIMIT": "0"}
    with LiveServer(home, workers=args.workers, env=env, log=home / "server.log") as server:
        url = server.url
        sizes = f"{len(small) // 1000},{len(medium) // 1000},{len(large) // 1000} kB"
        idle = idle_model_p50(url)
        print(f"hostile: idle model_p50_ms={idle:.1f} bombs={sizes} workers={args.workers}")
        attack(url, "scan-bomb-288k", one_of_each)
        attack(url, "scan-bomb-2m", lambda c: [post_image(c, "/api/predict", large)])
        attack(url, "feedback-flood", flood)
        attack(url, "batch-4mp", lambda c: [c.post("/api/predict/batch", json=batch).status_code])
    return 0


if __name__ == "__main__":
    sys.exit(main())
