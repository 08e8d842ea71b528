"""Overload: past the limit of predictions in flight, a request gets 503 at once, and the server
keeps serving the requests it took."""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from admin_support import Server
from drawings import SEVEN_DATA_URL, SEVEN_PIXELS
from fastapi import FastAPI

from app.errors import install_error_handlers
from app.limits import ConcurrencyLimit

# --- the middleware alone -----------------------------------------------------------------------


def test_past_the_limit_a_request_is_refused_without_waiting():
    inner = FastAPI()
    install_error_handlers(inner)
    release = asyncio.Event()

    @inner.post("/api/predict")
    async def slow() -> dict:
        await release.wait()
        return {"ok": True}

    @inner.get("/healthz")
    async def health() -> dict:
        return {"ok": True}

    app = ConcurrencyLimit(inner, limit=2, prefixes=("/api/predict",))

    async def scenario():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            held = [asyncio.create_task(client.post("/api/predict")) for _ in range(2)]
            while app.in_flight < 2:
                await asyncio.sleep(0.001)
            refused = await client.post("/api/predict")  # returns while the two still wait
            other_path = await client.get("/healthz")  # not limited
            release.set()
            done = await asyncio.gather(*held)
            after = await client.post("/api/predict")
            return refused, other_path, done, after

    refused, other_path, done, after = asyncio.run(scenario())
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "overloaded"
    assert refused.headers["Retry-After"] == "1"
    assert "2 predictions" in refused.json()["error"]["message"]
    assert other_path.status_code == 200
    assert [r.status_code for r in done] == [200, 200]
    assert after.status_code == 200  # the slots were given back
    assert app.in_flight == 0


# --- a real server under a burst ----------------------------------------------------------------

BURST = 12
LIMIT = 2
ITEMS = 150
JSON = {
    "content-type": "application/json"
}  # each request decodes 150 PNGs: a few hundred milliseconds of work


@pytest.mark.slow
def test_a_burst_over_the_limit_gets_quick_503s_and_the_rest_succeed(tmp_path):
    body = json.dumps({"items": [{"image": SEVEN_DATA_URL}] * ITEMS}).encode()
    env = {"DIGITS_MAX_CONCURRENT_PREDICTIONS": str(LIMIT)}
    with Server(tmp_path / "home", tmp_path / "server.log", env=env) as server:
        # Clients are made up front (each builds an SSL context, slow under the GIL) and
        # connected, so that the timings are the server's.
        clients = [httpx.Client(base_url=server.url, timeout=60) for _ in range(BURST)]
        for client in clients:
            client.get("/healthz")
        start_together = threading.Barrier(BURST)

        def post(client: httpx.Client) -> tuple[int, float, httpx.Response]:
            start_together.wait()
            start = time.perf_counter()
            r = client.post("/api/predict/batch", content=body, headers=JSON)
            return r.status_code, time.perf_counter() - start, r

        with ThreadPoolExecutor(BURST) as pool:
            results = list(pool.map(post, clients))
        for client in clients:
            client.close()

        statuses = [status for status, _, _ in results]
        assert set(statuses) <= {200, 503}, statuses
        ok = [seconds for status, seconds, _ in results if status == 200]
        refused = [(seconds, r) for status, seconds, r in results if status == 503]
        assert len(ok) >= LIMIT and refused, statuses
        for _, r in refused:
            assert r.json()["error"]["code"] == "overloaded"
            assert r.headers["Retry-After"] == "1"
        # Refused at once: far quicker than the work it did not queue for.
        assert statistics.median(s for s, _ in refused) < statistics.median(ok) / 3

        # Still serving, and the refusals are counted.
        r = httpx.post(f"{server.url}/api/predict", json={"pixels": SEVEN_PIXELS}, timeout=10)
        assert r.status_code == 200 and r.json()["digit"] == 7
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
        assert f'digits_requests_refused_total{{reason="overloaded"}} {len(refused)}.0' in metrics
