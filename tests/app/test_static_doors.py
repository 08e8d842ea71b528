"""Nothing outside static/ is served: raw request targets with `..`, encoded separators, absolute
paths and NUL bytes, sent over a socket so that no client library tidies them first."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from admin_support import digits_serve

from app.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]

ESCAPES = [
    "/static/../app/main.py",
    "/static/css/../../app/main.py",
    "/static/..%2fapp%2fmain.py",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/static/%252e%252e/pyproject.toml",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/..%5capp%5cmain.py",
    "/static/....//....//pyproject.toml",
    "/static/%00../pyproject.toml",
    "/static/js/app.js%00.py",
    "/static/../templates/index.html",
    "/static/../var/mnist.npz",
    "/templates/index.html",
    "/templates/base.html",
    "/app/main.py",
    "/pyproject.toml",
]
# What the files above contain; none of it may come back.
SECRETS = [b"create_app", b"root:", b"[project]", b"{%", b"{{", b"PK\x03\x04"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("static")
    with digits_serve(tmp / "home", tmp / "server.log") as running:
        yield running


def raw_get(server: LiveServer, target: str) -> tuple[int, bytes]:
    """GET target exactly as written; returns (status, whole response)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := s.recv(65536):
            response += chunk
    return int(response.split(b" ", 2)[1]), response


@pytest.mark.slow
@pytest.mark.parametrize("target", ESCAPES)
def test_a_path_out_of_static_gets_nothing(server, target):
    status, response = raw_get(server, target)
    assert status == 404, response[:300]
    for secret in SECRETS:
        assert secret not in response, (target, secret)


@pytest.mark.slow
def test_the_static_files_themselves_are_served(server):
    status, response = raw_get(server, "/static/js/app.js")
    assert status == 200
    assert response.endswith((ROOT / "static/js/app.js").read_bytes())


def test_static_holds_no_links_that_could_lead_out():
    for path in (ROOT / "static").rglob("*"):
        assert not path.is_symlink(), path
        assert path.resolve().is_relative_to((ROOT / "static").resolve()), path
