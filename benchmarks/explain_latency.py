"""What /api/explain costs over /api/predict, for a canvas drawing, in the same run.

    .venv/bin/python -m benchmarks.explain_latency [--requests 400]

A real uvicorn server (one process) on a fresh data home (``DIGITS_HOME`` if set). One client
sends the same 280×280 canvas PNG (a 7, drawn as the page exports it) as a data URL, to
``/api/predict?include_input=true`` (what the page asks when the panel is closed) and to
``/api/explain`` (when it is open), alternating one request each, sequentially over one
keep-alive connection. It prints the medians and 90th percentiles and the answers' sizes.

Target: explain adds at most 2 ms at p50, and its answer for the shipped model is under 40 kB.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from PIL import Image, ImageDraw

from app.live_server import LiveServer


def canvas_png() -> str:
    """A 7 as the page's canvas exports it: dark round strokes on transparent, 280×280."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.line([(70, 60), (200, 60), (110, 225)], fill=(20, 20, 20, 255), width=21, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400, help="of each kind (default 400)")
    args = parser.parse_args()
    home = Path(os.environ.get("DIGITS_HOME") or tempfile.mkdtemp(prefix="digits-explain-"))
    body = {"image": canvas_png()}
    paths = {"predict": "/api/predict?include_input=true", "explain": "/api/explain"}
    times: dict[str, list[float]] = {name: [] for name in paths}
    sizes: dict[str, int] = {}
    server = LiveServer(home, log=home / "server.log")
    with server, httpx2.Client(base_url=server.url, timeout=30) as client:
        for _ in range(30):  # warm up both paths
            for path in paths.values():
                client.post(path, json=body).raise_for_status()
        for _ in range(args.requests):
            for name, path in paths.items():
                started = time.perf_counter()
                response = client.post(path, json=body)
                times[name].append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                sizes[name] = len(response.content)
    p50 = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        spread = f"p50={p50[name]:.2f} ms p90={percentile(t, 0.9):.2f} ms"
        print(f"{name:8} {spread} size={sizes[name] / 1000:.1f} kB n={len(t)}")
    added = p50["explain"] - p50["predict"]
    print(
        f"explain-latency: predict_p50={p50['predict']:.2f}ms explain_p50={p50['explain']:.2f}ms "
        f"added_p50={added:.2f}ms explain_kb={sizes['explain'] / 1000:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
