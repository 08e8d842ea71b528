"""GET /api/lab/results and the /lab page, against the committed results of the lecture lab."""

from __future__ import annotations

import json

import pytest

from app.routes import lab
from model.lab import sections

COMMITTED = lab.RESULTS


def test_the_committed_results_are_a_full_run_of_every_experiment():
    doc = json.loads(COMMITTED.read_text())
    assert doc["quick"] is False and doc["seeds"] >= 3
    assert [s["number"] for s in doc["experiments"]] == [1, 2, 3, 4, 5, 6]
    assert all(s["verdict"]["label"] in sections.VERDICTS for s in doc["experiments"])
    assert doc["commit"] and not doc["commit"].endswith("+dirty")


def test_results_are_served_as_committed_and_declared_in_openapi(client):
    response = client.get("/api/lab/results")
    assert response.status_code == 200
    assert response.json() == json.loads(COMMITTED.read_text())
    assert response.headers["cache-control"] == "no-store"
    operation = client.get("/openapi.json").json()["paths"]["/api/lab/results"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/LabResults"}
    assert "503" in operation["responses"]


def test_missing_or_broken_results_are_a_503_and_a_page_that_says_so(client, tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "RESULTS", tmp_path / "results.json")
    response = client.get("/api/lab/results")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "lab_results_missing"
    page = client.get("/lab")
    assert page.status_code == 200 and 'data-testid="lab-empty"' in page.text
    assert "<code>digits lab --out docs/lab</code>" in page.text

    (tmp_path / "results.json").write_text('{"schema": 1}')
    response = client.get("/api/lab/results")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "lab_results_invalid"


def test_the_page_renders_every_section_and_table_on_the_server(client):
    doc = json.loads(COMMITTED.read_text())
    page = client.get("/lab")
    assert page.status_code == 200
    assert "script-src" not in page.headers["content-security-policy"]  # 'self' only
    assert page.text.count('data-testid="lab-section"') == 6
    tables = sum(len(s["tables"]) + 1 for s in doc["experiments"])
    assert page.text.count('<table class="lab-table"') == tables
    charts = sum(len(s["charts"]) for s in doc["experiments"])
    assert page.text.count("data-chart=") == charts
    assert "style=" not in page.text and "<script>" not in page.text
    assert '<script type="module" src="/static/js/lab.js"></script>' in page.text


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("plain", "plain"),
        ("run `digits lab` now", "run <code>digits lab</code> now"),
        ("<b>`<i>`", "&lt;b&gt;<code>&lt;i&gt;</code>"),
    ],
)
def test_code_spans_escape_everything_but_add_code(text, html):
    assert str(lab._code_spans(text)) == html
