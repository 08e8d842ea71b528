"""Liveness, readiness, the model description, and Prometheus metrics."""

from __future__ import annotations

import re

from drawings import SEVEN_PIXELS

from model.registry import Registry
from model.verdict import Calibration


def samples(client) -> dict[str, float]:
    """/metrics as {'name{labels}': value}."""
    text = client.get("/metrics").text
    return {m[1]: float(m[2]) for m in re.finditer(r"^(\S+) (\S+)$", text, re.MULTILINE)}


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_health_checks_answer_head_as_monitors_send_it(client):
    for path in ("/healthz", "/readyz"):
        r = client.head(path)
        assert r.status_code == 200 and r.content == b"", path


def test_readyz_names_the_loaded_model(client, tmp_path):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "model_version": Registry(tmp_path).active_version()}


def test_model_describes_the_active_model(client, tmp_path):
    meta = Registry(tmp_path).load_active().meta
    body = client.get("/api/model").json()
    assert set(body) == {
        "version",
        "created",
        "sizes",
        "activation",
        "calibration",
        "config",
        "metrics",
        "data_fingerprint",
    }
    assert body["version"] == meta["version"]
    assert body["created"] == meta["created"]
    assert body["sizes"][0] == 784 and body["sizes"][-1] in (10, 11)
    assert body["sizes"] == meta["sizes"]
    assert body["activation"] in {"relu", "sigmoid", "tanh"}
    assert body["metrics"] == meta.get("metrics")
    assert body["config"] == meta.get("config")
    assert body["data_fingerprint"] == meta.get("data_fingerprint")
    calibration = body["calibration"]
    assert calibration["temperature"] == Calibration.of(meta).temperature > 0
    assert calibration["unsure_threshold"] == 0.7
    if body["sizes"][-1] == 10:
        assert calibration["not_a_digit_threshold"] is None


def test_metrics_count_requests_by_route_template(client):
    client.post("/api/predict", json={"pixels": SEVEN_PIXELS})
    client.post("/api/predict", json={"pixels": SEVEN_PIXELS})
    client.post("/api/predict", json={})
    client.get("/docs/assets/swagger-ui.css")
    client.get("/openapi.json")
    client.get("/static/css/app.css")
    client.get("/no/such/page/123")
    client.get("/no/such/page/456")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    m = samples(client)
    assert m['digits_http_requests_total{method="POST",route="/api/predict",status="200"}'] == 2
    assert m['digits_http_requests_total{method="POST",route="/api/predict",status="422"}'] == 1
    # Templates, not raw paths: a parameterised route is one series, unknown URLs are another.
    assert (
        m['digits_http_requests_total{method="GET",route="/docs/assets/{name}",status="200"}'] == 1
    )
    assert m['digits_http_requests_total{method="GET",route="/openapi.json",status="200"}'] == 1
    assert m['digits_http_requests_total{method="GET",route="/static",status="200"}'] == 1
    assert m['digits_http_requests_total{method="GET",route="<unmatched>",status="404"}'] == 2
    assert not any("/no/such" in name for name in m)
    assert m['digits_http_request_duration_seconds_count{method="POST",route="/api/predict"}'] == 3


def test_metrics_count_predictions_per_digit(client):
    client.post("/api/predict", json={"pixels": SEVEN_PIXELS})
    client.post("/api/predict/batch", json={"items": [{"pixels": SEVEN_PIXELS}] * 3})
    m = samples(client)
    assert m['digits_predictions_total{digit="7"}'] == 4
    assert sum(m[f'digits_predictions_total{{digit="{d}"}}'] for d in range(10)) == 4


def test_metrics_name_the_served_model(client, tmp_path):
    meta = Registry(tmp_path).load_active().meta
    m = samples(client)
    assert m[f'digits_model_info{{created="{meta["created"]}",version="{meta["version"]}"}}'] == 1
    assert m['digits_model_loads_total{result="ok"}'] == 1
    assert m['digits_model_loads_total{result="error"}'] == 0


def test_each_app_has_its_own_metrics(make_client):
    first, second = make_client(), make_client()
    first.post("/api/predict", json={"pixels": SEVEN_PIXELS})
    assert samples(first)['digits_predictions_total{digit="7"}'] == 1
    assert samples(second)['digits_predictions_total{digit="7"}'] == 0
