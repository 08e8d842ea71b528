"""HEAD answers as GET does, without the body (app/head.py): pages, the API, static files."""

from __future__ import annotations

import asyncio
import socket

import pytest
from admin_support import digits_serve
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from test_health_metrics import samples

from app.head import HeadAsGet

GETS = ["/", "/lab", "/admin", "/docs", "/healthz", "/readyz", "/api/model", "/static/js/app.js"]


@pytest.mark.parametrize("path", GETS)
def test_head_has_the_status_and_headers_of_get_and_no_body(client, path):
    get, head = client.get(path), client.head(path)
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "content-security-policy", "cache-control"):
        assert head.headers.get(name) == get.headers.get(name), name


def test_head_of_a_missing_or_post_only_address_is_its_error_without_a_body(client):
    missing, post_only = client.head("/nowhere"), client.head("/api/predict")
    assert (missing.status_code, post_only.status_code) == (404, 405)
    assert missing.content == post_only.content == b""
    assert post_only.headers["allow"] == "POST"


def test_a_405_lists_head_wherever_get_is_taken(client):
    r = client.post("/healthz")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    assert r.json()["error"]["message"] == "/healthz does not take POST; it takes GET, HEAD"


def test_metrics_count_head_under_its_own_method_and_the_route_it_reached(client):
    client.head("/healthz")
    counts = samples(client)
    assert counts['digits_http_requests_total{method="HEAD",route="/healthz",status="200"}'] == 1


def test_head_over_a_real_connection_leaves_it_ready_for_the_next_request(tmp_path):
    """uvicorn sends no body for HEAD, and a keep-alive connection goes on to a whole GET."""
    pipelined = b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with (
        digits_serve(tmp_path / "home", tmp_path / "server.log") as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as s,
    ):
        s.sendall(pipelined)
        received = b""
        while not received.endswith(b"}") and (chunk := s.recv(65536)):
            received += chunk
    head, get = received.split(b"HTTP/1.1 ")[1:]
    assert head.startswith(b"200") and b"content-length: 15\r\n" in head.lower()
    assert head.endswith(b"\r\n\r\n")  # the headers, then nothing: no body
    assert get.startswith(b"200") and get.endswith(b'\r\n\r\n{"status":"ok"}')


def call_head(app, path: str) -> list[dict]:
    """HEAD path on the ASGI app directly: the messages it sends (a test client would drop a
    body itself, and so would uvicorn, so neither shows what the middleware sends)."""
    sent, asked = [], []

    async def receive():
        asked.append(1)
        if len(asked) > 1:  # past the empty body: the client stays until it has its answer
            await asyncio.sleep(5)
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "HEAD", "path": path, "headers": [], "query_string": b""}
    asyncio.run(app({**scope, "root_path": "", "http_version": "1.1"}, receive, send))
    return sent


def test_the_middleware_sends_the_start_and_one_empty_body_and_lets_the_route_finish():
    finished = []

    async def page(request):
        return PlainTextResponse("a page", background=BackgroundTask(finished.append, "task"))

    sent = call_head(HeadAsGet(Starlette(routes=[Route("/page", page)])), "/page")
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert (b"content-length", b"6") in sent[0]["headers"]
    assert finished == ["task"]  # as GET would: only a stream is stopped early


def test_head_on_a_stream_stops_it_at_its_first_part():
    """An event stream runs for as long as its job; a HEAD on it held the connection as long."""
    made = []

    async def ticks():
        for i in range(100):
            made.append(i)
            yield b"data: tick\n\n"

    async def events(request):
        return StreamingResponse(ticks(), media_type="text/event-stream")

    sent = call_head(HeadAsGet(Starlette(routes=[Route("/events", events)])), "/events")
    assert sent[0]["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in sent[0]["headers"]
    assert sent[1:] == [{"type": "http.response.body", "body": b"", "more_body": False}]
    assert made == [0]


def test_a_405_names_every_method_of_an_address_that_takes_several(admin):
    r = admin.put("/api/admin/feedback/1")
    assert r.status_code == 405 and r.headers["allow"] == "PATCH, DELETE"
    assert r.json()["error"]["message"].endswith("it takes PATCH, DELETE")
    assert admin.put("/static/js/app.js").headers["allow"] == "GET, HEAD"
