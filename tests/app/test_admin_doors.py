"""The admin token is taken only as `Authorization: Bearer`, and wrong tokens are rate-limited
per client: 429 for every admin request from that client once the burst is spent."""

from __future__ import annotations

import time

import pytest
from admin_support import AUTH, TOKEN
from drawings import SEVEN_PIXELS
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.ratelimit import RateLimiter

WORKER = "/api/admin/worker"  # a cheap admin GET


@pytest.mark.parametrize(
    "query",
    [f"token={TOKEN}", f"access_token={TOKEN}", f"admin_token={TOKEN}",
     f"authorization=Bearer%20{TOKEN}"],
)  # fmt: skip
def test_a_token_in_the_query_string_is_refused(admin, query):
    r = admin.get(f"{WORKER}?{query}")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("name", ["token", "admin_token", "authorization", "Authorization"])
def test_a_token_in_a_cookie_is_refused(admin, name):
    admin.cookies.set(name, TOKEN if name.endswith("token") else f"Bearer {TOKEN}")
    r = admin.get(WORKER)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("credentials", [("admin", TOKEN), (TOKEN, ""), (TOKEN, TOKEN)])
def test_a_token_sent_as_basic_auth_is_refused(admin, credentials):
    r = admin.get(WORKER, auth=credentials)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_bearer_header_is_the_way_in(admin):
    assert admin.get(WORKER, headers=AUTH).status_code == 200


# ---- failed attempts ---------------------------------------------------------------------------

LIMIT = 3
WRONG = {"Authorization": "Bearer not-the-token-0123456789"}


def client_at(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 50000))


@pytest.fixture
def guarded_app(home):
    """An app allowing LIMIT wrong tokens a minute per client."""
    settings = Settings(home=home, admin_token=TOKEN, admin_failure_limit=LIMIT)
    with TestClient(create_app(settings)) as started:
        yield started.app


def test_after_the_burst_of_wrong_tokens_every_admin_request_gets_429(guarded_app):
    attacker = client_at(guarded_app, "203.0.113.7")
    assert [attacker.get(WORKER, headers=WRONG).status_code for _ in range(LIMIT)] == [401] * LIMIT
    refused = attacker.get(WORKER, headers=WRONG)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "admin_rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Locked out even with the right token, so a guess cannot be confirmed while locked.
    assert attacker.get(WORKER, headers=AUTH).status_code == 429
    assert attacker.post("/api/admin/retrain", headers=AUTH, json={}).status_code == 429
    # Another client is not affected, and the refusals are counted.
    assert client_at(guarded_app, "198.51.100.2").get(WORKER, headers=AUTH).status_code == 200
    metrics = attacker.get("/metrics").text
    assert 'digits_requests_refused_total{reason="admin_rate_limited"} 3.0' in metrics


def test_a_missing_token_is_not_counted_as_a_guess(guarded_app):
    visitor = client_at(guarded_app, "203.0.113.8")
    assert {visitor.get(WORKER).status_code for _ in range(2 * LIMIT)} == {401}
    assert visitor.get(WORKER, auth=("admin", TOKEN)).status_code == 401
    assert visitor.get(WORKER, headers=AUTH).status_code == 200


def test_predictions_are_not_touched_by_an_admin_lockout(guarded_app):
    attacker = client_at(guarded_app, "203.0.113.9")
    for _ in range(LIMIT + 2):
        attacker.get(WORKER, headers=WRONG)
    r = attacker.post("/api/predict", json={"pixels": SEVEN_PIXELS})
    assert r.status_code == 200


def test_the_lockout_ends_when_the_window_has_passed():
    limiter = RateLimiter(2, window=0.2)
    assert limiter.check("a") is None and limiter.check("a") is None
    wait = limiter.wait("a")
    assert wait is not None and 0 < wait <= 0.2
    assert limiter.wait("b") is None  # peeking at a new client counts nothing
    time.sleep(0.25)
    assert limiter.wait("a") is None
    assert limiter.check("a") is None


def test_a_limit_of_zero_turns_the_lockout_off(home):
    settings = Settings(home=home, admin_token=TOKEN, admin_failure_limit=0)
    with TestClient(create_app(settings)) as client:
        assert {client.get(WORKER, headers=WRONG).status_code for _ in range(20)} == {401}
        assert client.get(WORKER, headers=AUTH).status_code == 200
