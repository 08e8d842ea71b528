"""Overload: past the limit of predictions in progress a request gets 503 at once; a client slow
to send its body holds no slot; and the server keeps serving the requests it took."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from admin_support import digits_serve
from drawings import SEVEN_DATA_URL, SEVEN_PIXELS

from app.errors import ApiError
from app.limits import InFlightLimit
from app.live_server import LiveServer

# --- the limit alone ----------------------------------------------------------------------------


def test_past_the_limit_a_slot_is_refused_with_503_and_given_back_after():
    limit = InFlightLimit(2)
    with limit.slot(), limit.slot():
        with pytest.raises(ApiError) as refused, limit.slot():
            pass
        assert limit.in_flight == 2
    error = refused.value
    assert (error.status_code, error.code) == (503, "overloaded")
    assert error.headers == {"Retry-After": "1"}
    assert "2 drawings are being read" in error.message
    with pytest.raises(ValueError), limit.slot():  # a failing prediction gives its slot back
        raise ValueError("boom")
    assert limit.in_flight == 0
    with limit.slot():
        assert limit.in_flight == 1


# --- a real server ------------------------------------------------------------------------------

LIMIT = 2
BURST = 12
ITEMS = 150  # each request decodes 150 PNGs: a few hundred milliseconds of work
JSON_TYPE = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("overload")
    env = {"DIGITS_MAX_CONCURRENT_PREDICTIONS": str(LIMIT), "DIGITS_BODY_TIMEOUT_SECONDS": "2"}
    with digits_serve(tmp / "home", tmp / "server.log", env=env) as running:
        yield running


def send_partial_body(server: LiveServer) -> socket.socket:
    """A POST /api/predict that declares 1,000 bytes and sends one."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    s.sendall(
        b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        b"Content-Length: 1000\r\n\r\n{"
    )
    return s


@pytest.mark.slow
def test_a_burst_over_the_limit_gets_quick_503s_and_the_rest_succeed(server):
    body = json.dumps({"items": [{"image": SEVEN_DATA_URL}] * ITEMS}).encode()
    # Clients are made up front (each builds an SSL context, slow under the GIL) and connected,
    # so that the timings are the server's.
    clients = [httpx2.Client(base_url=server.url, timeout=60) for _ in range(BURST)]
    for client in clients:
        client.get("/healthz")
    start_together = threading.Barrier(BURST)

    def post(client: httpx2.Client) -> tuple[int, float, httpx2.Response]:
        start_together.wait()
        start = time.perf_counter()
        r = client.post("/api/predict/batch", content=body, headers=JSON_TYPE)
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
    # Refused at once: far quicker than the work they did not queue for (in one run, ~10 ms
    # against ~230 ms; a factor of 3 leaves room for a loaded machine).
    assert statistics.median(s for s, _ in refused) < statistics.median(ok) / 3

    # Still serving, and the refusals are counted.
    r = httpx2.post(f"{server.url}/api/predict", json={"pixels": SEVEN_PIXELS}, timeout=10)
    assert r.status_code == 200 and r.json()["digit"] == 7
    metrics = httpx2.get(f"{server.url}/metrics", timeout=10).text
    assert f'digits_requests_refused_total{{reason="overloaded"}} {len(refused)}.0' in metrics


@pytest.mark.slow
def test_clients_slow_to_send_their_body_hold_no_slot(server):
    slow = [send_partial_body(server) for _ in range(2 * LIMIT)]
    try:
        time.sleep(0.3)  # they are all in the server, waiting for their bodies
        for _ in range(3):
            r = httpx2.post(f"{server.url}/api/predict", json={"pixels": SEVEN_PIXELS}, timeout=10)
            assert r.status_code == 200, r.text
    finally:
        for s in slow:
            s.close()


@pytest.mark.slow
def test_a_body_that_stops_arriving_gets_408_and_the_connection_is_closed(server):
    with send_partial_body(server) as s:
        response = b""
        while chunk := s.recv(65536):  # until the server closes: bounded by the socket timeout
            response += chunk
    assert response.startswith(b"HTTP/1.1 408 ")
    assert b'"code":"body_timeout"' in response
    assert b"connection: close" in response.lower()


@pytest.mark.parametrize(
    "route", ["/api/predict", "/api/predict/batch", "/api/read", "/api/feedback"]
)
def test_a_client_that_hangs_up_mid_body_is_no_server_error(server, route):
    """An aborted upload is the client's doing: logged and counted as a 400, never a 500 with a
    traceback (which would page someone about an error rate that is not the server's)."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    s.sendall(
        f"POST {route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        'Content-Length: 1000\r\n\r\n{"pix'.encode()
    )
    time.sleep(0.3)  # in the server, reading the body
    s.close()
    counted = f'digits_http_requests_total{{method="POST",route="{route}",status="400"}}'
    metrics = ""
    for _ in range(50):  # the server sees the hang-up a moment later
        metrics = httpx2.get(f"{server.url}/metrics", timeout=10).text
        if counted in metrics:
            break
        time.sleep(0.1)
    assert counted in metrics
    assert f'route="{route}",status="500"' not in metrics
    assert "Traceback" not in server.log_path.read_text()
