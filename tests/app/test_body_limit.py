"""The body-size limit: refused up-front by Content-Length, and while a chunked body streams."""

from __future__ import annotations

import asyncio

from drawings import SEVEN_PNG
from fastapi import FastAPI, Request

from app.errors import install_error_handlers
from app.limits import BodySizeLimit

LIMIT = 1000


def test_a_declared_length_over_the_limit_is_refused(make_client):
    client = make_client(max_body_bytes=LIMIT)
    r = client.post("/api/predict", content=b"\x89PNG" + b"\0" * LIMIT,
                    headers={"content-type": "image/png"})  # fmt: skip
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


def run_upload(chunks: list[bytes], headers: list[tuple[bytes, bytes]]):
    """Send chunks through BodySizeLimit(LIMIT) to an app that reads the whole body.

    Returns (status, number of chunks the middleware pulled from the client).
    """
    inner = FastAPI()
    install_error_handlers(inner)

    @inner.post("/upload")
    async def upload(request: Request) -> dict:
        return {"size": len(await request.body())}

    app = BodySizeLimit(inner, default_limit=LIMIT)
    pulled = 0
    sent = []

    async def receive():
        nonlocal pulled
        pulled += 1
        more = pulled < len(chunks)
        return {"type": "http.request", "body": chunks[pulled - 1], "more_body": more}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/upload", "headers": headers,
             "query_string": b"", "root_path": "", "http_version": "1.1"}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], pulled


def test_streaming_stops_at_the_chunk_that_crosses_the_limit():
    status, pulled = run_upload([b"x" * 400] * 10, headers=[])
    assert status == 413
    assert pulled == 3  # 400, 800, 1200 > 1000: the other 7 chunks are never read


def test_a_declared_length_is_refused_before_any_chunk_is_read():
    status, pulled = run_upload([b"x" * 400] * 10, headers=[(b"content-length", b"4000")])
    assert status == 413
    assert pulled == 0


def test_a_body_under_the_limit_streams_through():
    status, pulled = run_upload([b"x" * 400, b"x" * 400], headers=[])
    assert status == 200
    assert pulled == 2
