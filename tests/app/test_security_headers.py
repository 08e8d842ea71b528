"""Security headers on every kind of response; /docs gets a policy of its own."""

from __future__ import annotations

import re

import pytest
from admin_support import AUTH, TOKEN
from drawings import SEVEN_PIXELS

from app.headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS


def check_headers(response, csp: str = CONTENT_SECURITY_POLICY) -> None:
    for name, value in SECURITY_HEADERS.items():
        expected = csp if name == "Content-Security-Policy" else value
        assert response.headers[name] == expected, name
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "media"),
    [
        ("GET", "/", {}, 200, "text/html"),
        ("GET", "/admin", {}, 200, "text/html"),
        ("GET", "/healthz", {}, 200, "application/json"),
        ("POST", "/api/predict", {"json": {"pixels": SEVEN_PIXELS}}, 200, "application/json"),
        ("POST", "/api/predict", {"json": {"pixels": []}}, 422, "application/json"),
        ("GET", "/metrics", {}, 200, "text/plain"),
        ("GET", "/static/css/app.css", {}, 200, "text/css"),
        ("GET", "/missing", {}, 404, "application/json"),
        ("GET", "/openapi.json", {}, 200, "application/json"),
    ],
)
def test_every_response_carries_the_security_headers(client, method, path, kwargs, status, media):
    r = client.request(method, path, **kwargs)
    assert r.status_code == status
    assert r.headers["content-type"].startswith(media)
    check_headers(r)


def test_the_csp_is_exactly_as_designed():
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


def test_a_refused_oversized_body_carries_them_too(make_client):
    client = make_client(max_body_bytes=10)
    r = client.post("/api/predict", content=b"0" * 100, headers={"content-type": "image/png"})
    assert r.status_code == 413
    check_headers(r)


def test_docs_run_no_inline_script(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert re.findall(r"<script>(.*?)</script>", r.text, re.DOTALL) == []  # only src=…
    csp = r.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'self';") and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_api_answers_are_never_cached_and_pages_may_be(make_client):
    """No /api response carried Cache-Control: an admin answer or the feedback export could sit
    in a shared cache."""
    client = make_client(admin_token=TOKEN)
    answers = [
        client.get("/api/admin/models", headers=AUTH),
        client.get("/api/admin/jobs", headers=AUTH),
        client.get("/api/admin/feedback", headers=AUTH),
        client.get("/api/admin/feedback/export", headers=AUTH),
        client.get("/api/admin/models"),  # 401
        client.post("/api/predict", json={"pixels": SEVEN_PIXELS}),
        client.post("/api/predict", json={"pixels": []}),  # 422
        client.get("/api/model"),
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 401, 200, 422, 200]
    for r in answers:
        assert r.headers["Cache-Control"] == "no-store", r.url
    for path in ("/", "/static/css/app.css"):
        assert "no-store" not in client.get(path).headers.get("Cache-Control", "")
