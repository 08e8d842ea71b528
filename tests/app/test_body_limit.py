"""The body limits: a size refused up-front by Content-Length or while a chunked body streams,
and a time limit on the whole body."""

from __future__ import annotations

import asyncio
import json

from drawings import SEVEN_PNG
from fastapi import FastAPI, Request

from app.errors import install_error_handlers
from app.limits import BodyLimits

LIMIT = 1000
TIMEOUT = 0.5  # seconds


def test_a_declared_length_over_the_limit_is_refused(make_client):
    client = make_client(max_body_bytes=LIMIT)
    r = client.post(
        "/api/predict", content=b"\x89PNG" + b"\0" * LIMIT, headers={"content-type": "image/png"}
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"
    assert str(LIMIT) in r.json()["error"]["message"]


def test_a_chunked_body_over_the_limit_is_refused(make_client):
    client = make_client(max_body_bytes=LIMIT)

    def chunks():  # a generator body is sent chunked, with no Content-Length
        for _ in range(10):
            yield b"\0" * 300

    r = client.post("/api/predict", content=chunks(), headers={"content-type": "image/png"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"


def test_a_body_at_the_limit_is_read(make_client):
    client = make_client(max_body_bytes=len(SEVEN_PNG))
    r = client.post("/api/predict", content=SEVEN_PNG, headers={"content-type": "image/png"})
    assert r.status_code == 200


def test_an_oversized_multipart_upload_is_refused(make_client):
    client = make_client(max_body_bytes=LIMIT)
    r = client.post("/api/predict", files={"file": ("big.png", b"\0" * 2 * LIMIT)})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"


# --- the middleware alone, driven chunk by chunk ------------------------------------------------


def run_upload(
    chunks: list[bytes], headers: list[tuple[bytes, bytes]], pause: float = 0.0, limit=LIMIT
):
    """Send chunks, pause seconds apart, through BodyLimits(limit, TIMEOUT) to an app that reads
    the whole body.

    Returns (status, chunks the middleware pulled from the client, JSON body, headers).
    """
    inner = FastAPI()
    install_error_handlers(inner)

    @inner.post("/upload")
    async def upload(request: Request) -> dict:
        return {"size": len(await request.body())}

    app = BodyLimits(inner, default_limit=limit, timeout=TIMEOUT)
    pulled = 0
    sent = []

    async def receive():
        nonlocal pulled
        if pulled:
            await asyncio.sleep(pause)
        pulled += 1
        more = pulled < len(chunks)
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": more}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "headers": headers,
        "query_string": b"",
        "root_path": "",
        "http_version": "1.1",
    }
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], pulled, json.loads(sent[1]["body"]), dict(sent[0]["headers"])


def test_streaming_stops_at_the_chunk_that_crosses_the_limit():
    status, pulled, _, _ = run_upload([b"x" * 400] * 10, headers=[])
    assert status == 413
    assert pulled == 3  # 400, 800, 1200 > 1000: the other 7 chunks are never read


def test_a_declared_length_is_refused_before_any_chunk_is_read():
    status, pulled, _, _ = run_upload([b"x" * 400] * 10, headers=[(b"content-length", b"4000")])
    assert status == 413
    assert pulled == 0


def test_a_body_under_the_limit_streams_through():
    status, pulled, _, _ = run_upload([b"x" * 400, b"x" * 400], headers=[])
    assert status == 200
    assert pulled == 2


def test_a_body_trickling_in_past_the_timeout_gets_408():
    # 10 chunks of 10 bytes, 0.1 s apart: well under the size limit, but 0.9 s in all
    status, pulled, body, _ = run_upload([b"x" * 10] * 10, headers=[], pause=0.1)
    assert status == 408
    assert body["error"]["code"] == "body_timeout"
    assert f"{TIMEOUT:g} s" in body["error"]["message"]
    assert pulled < 10  # cut off at the deadline, not read to the end


def test_a_refusal_closes_the_connection():
    """uvicorn would otherwise go on reading whatever the client still sends, for as long as it
    sends it, and the connection would stay busy."""
    too_slow = run_upload([b"x" * 10] * 10, headers=[], pause=0.1)
    too_large = run_upload([b"x" * 400] * 10, headers=[(b"content-length", b"4000")])
    for status, _, _, headers in (too_slow, too_large):
        assert status in (408, 413)
        assert headers[b"connection"] == b"close"


def test_a_large_body_gets_a_second_for_every_100_kb():
    # 6 chunks of 100 kB, 0.3 s apart: 1.5 s in all, three times TIMEOUT, at ~330 kB/s
    status, _, body, _ = run_upload([b"x" * 100_000] * 6, headers=[], pause=0.3, limit=10**7)
    assert status == 200
    assert body == {"size": 600_000}


def test_a_slow_body_within_the_timeout_is_read():
    status, pulled, body, _ = run_upload([b"x" * 10] * 3, headers=[], pause=0.1)
    assert status == 200
    assert body == {"size": 30}


def test_the_timeout_does_not_cut_a_streamed_response_short():
    """After the body, receive waits for the client to disconnect, as a streamed response
    listens for that: the deadline must not apply there."""
    inner = FastAPI()

    @inner.get("/wait")
    async def wait_for_disconnect(request: Request) -> dict:
        await request.body()
        await request.receive()  # past the body: returns only on disconnect
        return {"ok": True}

    app = BodyLimits(inner, default_limit=LIMIT, timeout=0.05)
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(0.3)  # the client disconnects long after the 0.05 s deadline
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/wait",
        "headers": [],
        "query_string": b"",
        "root_path": "",
        "http_version": "1.1",
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 200
