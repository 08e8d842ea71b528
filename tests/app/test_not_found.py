"""A missing page: browsers get a small HTML page, programs the JSON error, by Accept."""

from __future__ import annotations

import pytest

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize("path", ["/nope", "/admin/typo", "/api/nothing-here"])
def test_a_browser_gets_a_page_that_leads_back(client, path):
    r = client.get(path, headers={"Accept": BROWSER})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "There is no page here" in r.text and f"<code>{path}</code>" in r.text
    assert 'href="/"' in r.text and 'href="/docs"' in r.text  # back to the app, and the API
    assert r.headers["content-security-policy"].startswith("default-src 'self'")


@pytest.mark.parametrize(
    "accept",
    [
        None,  # curl and most libraries: */*
        "*/*",
        "application/json",
        "application/json, text/html",  # a tie goes to JSON
        "text/html;q=0.5, application/json",
        "text/html;q=0.5, */*",
        "text/html;q=nonsense, application/json",
    ],
)
def test_a_program_gets_the_json_error(client, accept):
    headers = {} if accept is None else {"Accept": accept}
    r = client.get("/nope", headers=headers)
    assert r.status_code == 404
    assert r.json()["error"] == {
        "code": "not_found",
        "message": "nothing at GET /nope; the API is described at /docs",
    }


def test_an_xss_attempt_in_the_path_is_escaped(client):
    r = client.get("/<script>alert(1)</script>", headers={"Accept": "text/html"})
    assert r.status_code == 404 and "<script>alert" not in r.text
    assert "&lt;script&gt;" in r.text


@pytest.mark.parametrize(
    ("path", "skip"),
    [
        ("/", "Skip to the drawing area"),
        ("/lab", "Skip to the main content"),
        ("/nope", "Skip to the main content"),  # the 404 page has no drawing area either
        ("/admin", "Skip to the main content"),
    ],
)
def test_each_page_skip_link_names_what_it_skips_to(client, path, skip):
    html = client.get(path, headers={"Accept": BROWSER}).text
    assert f'<a class="skip-link" href="#main">{skip}</a>' in html and 'id="main"' in html
