"""The admin token is taken only as `Authorization: Bearer`, and wrong tokens are rate-limited
per client: 429 for every admin request from that client once the burst is spent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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
    [
        f"token={TOKEN}",
        f"access_token={TOKEN}",
        f"admin_token={TOKEN}",
        f"authorization=Bearer%20{TOKEN}",
    ],
)
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


def test_the_lockout_ends_when_the_oldest_failure_leaves_the_window():
    now = [1000.0]
    limiter = RateLimiter(2, window=60.0, clock=lambda: now[0])
    assert limiter.check("a") is None
    now[0] += 10
    assert limiter.check("a") is None
    assert limiter.check("a") == pytest.approx(50.0)  # the first failure leaves at 1060
    assert limiter.check("b") is None  # another client is counted apart
    now[0] += 50
    assert limiter.check("a") is None  # the first has left: one more is let through
    assert limiter.check("a") == pytest.approx(10.0)


def test_a_right_token_is_refunded_so_it_never_uses_up_the_allowance(guarded_app):
    admin = client_at(guarded_app, "203.0.113.10")
    for _ in range(3 * LIMIT):
        assert admin.get(WORKER, headers=AUTH).status_code == 200
    for _ in range(LIMIT):  # the whole allowance of wrong tokens is still there
        assert admin.get(WORKER, headers=WRONG).status_code == 401
    assert admin.get(WORKER, headers=WRONG).status_code == 429


def test_parallel_guesses_are_compared_no_more_than_the_limit(guarded_app):
    """Counting before comparing: a burst in parallel gets exactly LIMIT 401s, the rest 429."""
    attacker = client_at(guarded_app, "203.0.113.11")
    with ThreadPoolExecutor(16) as pool:
        statuses = list(
            pool.map(lambda _: attacker.get(WORKER, headers=WRONG).status_code, range(32))
        )
    assert sorted(statuses) == [401] * LIMIT + [429] * (32 - LIMIT)


def test_a_limit_of_zero_turns_the_lockout_off(home):
    settings = Settings(home=home, admin_token=TOKEN, admin_failure_limit=0)
    with TestClient(create_app(settings)) as client:
        assert {client.get(WORKER, headers=WRONG).status_code for _ in range(20)} == {401}
        assert client.get(WORKER, headers=AUTH).status_code == 200
