"""Prometheus metrics for one app: HTTP traffic, predictions per digit, and the model served.

Each app owns its ``CollectorRegistry``, so several ``create_app()`` calls (as in tests) never
clash over metric names. The counters are per process: under a multi-worker server each worker
reports its own, and aggregating them (prometheus-client's multiprocess mode, or scraping each
worker) is left for when the service runs more than one worker.

HTTP metrics are labelled by route template (``/api/predict``), never by raw path, so a scan of
random URLs adds one ``<unmatched>`` series rather than one series per URL.
"""

from __future__ import annotations

import time

import numpy as np
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.serving import ModelServer
from model.verdict import VERDICTS

# The *_created series (a timestamp per label set) double the output and tell a scraper nothing
# that the process start time does not; this switch is process-wide in prometheus-client.
disable_created_metrics()

UNMATCHED = "<unmatched>"
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# From a /healthz round trip (sub-millisecond) to a full 1000-item batch (seconds).
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """The app's metrics registry and the counters that routes and middleware update."""

    def __init__(self, server: ModelServer):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "digits_http_requests",
            "HTTP requests, by method, route template and status code",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "digits_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by route template",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "digits_predictions",
            "Digits predicted, by the predicted digit",
            ["digit"],
            registry=self.registry,
        )
        self.verdicts = Counter(
            "digits_verdicts",
            "Drawings by verdict: digit, unsure, or not_a_digit",
            ["verdict"],
            registry=self.registry,
        )
        self.number_lengths = Histogram(
            "digits_number_length",
            "Numbers read (POST /api/read), by how many digits each held",
            buckets=(1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 50, 100),
            registry=self.registry,
        )
        self.refused = Counter(
            "digits_requests_refused",
            "Requests refused to protect the server: 'overloaded' (too many predictions in "
            "flight, 503) or 'admin_rate_limited' (too many wrong admin tokens, 429)",
            ["reason"],
            registry=self.registry,
        )
        for reason in ("overloaded", "admin_rate_limited"):
            self.refused.labels(reason)
        for digit in range(10):  # every digit shows up, at 0, before its first prediction
            self.predictions.labels(str(digit))
        for verdict in VERDICTS:
            self.verdicts.labels(verdict)
        self.registry.register(_ModelCollector(server))

    def count_predictions(self, digits: np.ndarray, verdicts: list[str]) -> None:
        """digits (n,) int: the predicted digit of each item; verdicts (n,) each one's verdict."""
        for digit, count in enumerate(np.bincount(digits, minlength=10)):
            if count:
                self.predictions.labels(str(digit)).inc(int(count))
        for verdict in set(verdicts):
            self.verdicts.labels(verdict).inc(verdicts.count(verdict))

    def render(self) -> bytes:
        """Everything in the Prometheus text exposition format."""
        return generate_latest(self.registry)


class _ModelCollector(Collector):
    """Reads the served model at scrape time, so the reported version is never stale."""

    def __init__(self, server: ModelServer):
        self.server = server

    def collect(self):
        info = InfoMetricFamily("digits_model", "The model this process serves")
        model = self.server.model
        if model is not None:
            info.add_metric(
                [], {"version": model.version, "created": model.meta.get("created", "")}
            )
        yield info
        loads = CounterMetricFamily(
            "digits_model_loads", "Model loads by this process, by result", labels=["result"]
        )
        loads.add_metric(["ok"], self.server.loads)
        loads.add_metric(["error"], self.server.load_failures)
        yield loads


def _route_template(scope: Scope) -> str:
    """The template of the route that handled the request, as the router left it in the scope."""
    route = scope.get("route")  # set by FastAPI's routes (and for 405s)
    if route is not None:
        return getattr(route, "path", UNMATCHED)
    if "app_root_path" in scope:  # a Mount (/static) records its prefix in root_path instead
        return scope["root_path"][len(scope["app_root_path"]) :] or UNMATCHED
    endpoint, app = scope.get("endpoint"), scope.get("app")
    if endpoint is not None and app is not None:  # a plain Starlette route, e.g. /openapi.json
        for candidate in app.routes:
            if getattr(candidate, "endpoint", None) is endpoint:
                return getattr(candidate, "path", UNMATCHED)
    return UNMATCHED


class HttpMetrics:
    """Pure ASGI middleware: counts each request and times it, by route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "other"
        status = 500  # what the client gets if the app raises before responding

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            route = _route_template(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - start)
