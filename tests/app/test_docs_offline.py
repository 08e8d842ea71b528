"""/docs works with no internet: Swagger UI from this server, every request form documented."""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from app.config import Settings
from app.error_codes import ADMIN_ERRORS, DRAWING_ERRORS
from app.main import create_app

ROOT = Path(__file__).resolve().parents[2]


def test_docs_page_loads_everything_from_this_server(client):
    html = client.get("/docs").text
    assert 'src="/docs/assets/swagger-ui-bundle.js"' in html
    assert 'href="/docs/assets/swagger-ui.css"' in html
    assert "http://" not in html and "https://" not in html  # no CDN, no favicon from afar
    assert '<script type="module" src="/static/js/docs.js"></script>' in html
    starter = client.get("/static/js/docs.js").text
    assert "validatorUrl: null" in starter  # and no call to the public validator service


def test_the_docs_lead_back_to_the_app_and_end_with_every_error_code(client):
    html = client.get("/docs").text
    assert '<a class="docs-back" href="/">' in html
    endpoints, errors = html.index('id="swagger-ui"'), html.index('id="errors"')
    assert endpoints < errors  # the endpoints first; the tables after them
    for row in (*DRAWING_ERRORS, *ADMIN_ERRORS):
        for code in row.codes:
            assert f"<code>{code}</code>" in html[errors:], code
    description = client.get("/openapi.json").json()["info"]["description"]
    assert "| status |" not in description  # no table above the endpoints any more
    assert "[the drawing page](/)" in description and "Authorize" in description


def test_the_admin_routes_declare_the_bearer_scheme(client):
    """So that Swagger UI shows "Authorize" and sends the token with "Try it out"."""
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["adminToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The admin token (DIGITS_ADMIN_TOKEN), sent as "
        "`Authorization: Bearer <token>`.",
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            declared = operation.get("security")
            if path.startswith("/api/admin/"):
                assert declared == [{"adminToken": []}], (method, path)
            else:
                assert declared is None, (method, path)


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
    ],
)
def test_docs_assets_are_served(client, name, media):
    r = client.get(f"/docs/assets/{name}")
    assert r.status_code == 200
    assert media in r.headers["content-type"]
    assert len(r.content) > 500


def test_only_the_listed_assets_are_served(client):
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/..%2F..%2F__init__.py").status_code == 404
    assert client.get("/redoc").status_code == 404  # Redoc would load from a CDN


def test_predict_documents_every_request_form(client):
    body = client.get("/openapi.json").json()["paths"]["/api/predict"]["post"]["requestBody"]
    content = body["content"]
    assert set(content) == {
        "application/json",
        "multipart/form-data",
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/gif",
        "image/bmp",
    }
    assert set(content["application/json"]["examples"]) == {"image", "pixels_rows", "pixels_flat"}
    assert content["multipart/form-data"]["schema"]["required"] == ["file"]


def test_every_reference_in_the_openapi_document_resolves(client):
    spec = client.get("/openapi.json").json()

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = set(refs(spec))
    assert "#/components/schemas/DrawingInput" in found
    assert "#/components/schemas/BatchRequest" in found
    for ref in found:
        node = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]  # a KeyError here is a dangling reference


def test_every_422_is_declared_in_the_error_shape_the_app_sends(client):
    """FastAPI declares its own {"detail": [...]} body for 422; the app sends ErrorResponse."""
    spec = client.get("/openapi.json").json()
    declared = [
        (path, method, operation["responses"]["422"])
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "422" in operation["responses"]
    ]
    assert len(declared) > 10
    for path, method, response in declared:
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_every_operation_with_a_body_declares_the_body_limits(client):
    spec = client.get("/openapi.json").json()
    with_body = [
        (method, path, operation["responses"])
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    paths = {path for _, path, _ in with_body}
    assert {
        "/api/predict",
        "/api/predict/batch",
        "/api/feedback",
        "/api/admin/retrain",
        "/api/admin/feedback/import",
        "/api/admin/feedback/{sample_id}",
    } <= paths
    for method, path, responses in with_body:
        for status in ("408", "413"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)


def test_every_documented_example_is_a_request_that_works(client):
    """The examples in /docs are real: each one, sent as is, is recognised as a 7."""
    paths = client.get("/openapi.json").json()["paths"]
    content = paths["/api/predict"]["post"]["requestBody"]["content"]["application/json"]
    for name, example in content["examples"].items():
        r = client.post("/api/predict", json=example["value"])
        assert r.status_code == 200, name
        assert r.json()["digit"] == 7, name
    batch = paths["/api/predict/batch"]["post"]["requestBody"]["content"]["application/json"]
    r = client.post("/api/predict/batch", json=batch["example"])
    assert [p["digit"] for p in r.json()["predictions"]] == [7, 7]


def test_every_documented_answer_adds_up(client):
    """An answer in /docs is one the API could give: its probabilities sum to 1, and the digit,
    confidence and runner-up are read off them."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    answers = [
        (name, example)
        for name, schema in schemas.items()
        for example in schema.get("examples", [])
        if isinstance(example, dict) and "probabilities" in example
    ]
    assert {name for name, _ in answers} >= {"Prediction", "DigitReading"}
    for name, answer in answers:
        p = answer["probabilities"]
        ranked = sorted(range(10), key=lambda d: -p[d])
        assert abs(sum(p) - 1) < 1e-6, name
        assert (answer["digit"], answer["runner_up"]) == tuple(ranked[:2]), name
        assert answer["confidence"] == p[answer["digit"]], name


# --- in a real browser ---------------------------------------------------------------------------


TOKEN = "docs-admin-token-0123456789"


@pytest.fixture
def live_server(tmp_path):
    """The app under uvicorn on a free loopback port; yields its base URL."""
    app = create_app(Settings(home=tmp_path, admin_token=TOKEN))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the server did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.e2e
def test_docs_render_in_chromium_without_the_internet(live_server):
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium on this machine")
    errors, foreign = [], []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))

            def note_foreign(request):
                if not request.url.startswith((live_server, "data:")):
                    foreign.append(request.url)

            page.on("request", note_foreign)
            page.goto(f"{live_server}/docs")
            page.wait_for_selector(".opblock-summary-path", timeout=15_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            # Open /api/predict: its request body offers every documented content type.
            page.locator("#operations-predict-predict_api_predict_post").click()
            page.wait_for_selector(".body-param-content-type select", timeout=5_000)
            types = page.locator(".body-param-content-type select option").all_inner_texts()
            # The endpoints come before the error table.
            first = page.locator(".opblock").first.bounding_box()["y"]
            table = page.locator("#errors").bounding_box()["y"]
            # Authorize with the admin token, then "Try it out" on an admin route answers 200.
            page.get_by_role("button", name="Authorize").first.click()
            page.locator("#auth-bearer-value").fill(TOKEN)
            page.get_by_role("button", name="Apply credentials").click()
            page.locator(".modal-ux").get_by_role("button", name="Close").click()
            operation = page.locator("#operations-admin-list_models_api_admin_models_get")
            operation.click()
            operation.get_by_role("button", name="Try it out").click()
            operation.get_by_role("button", name="Execute").click()
            status = operation.locator(".live-responses-table .response .response-col_status")
            status.first.wait_for(timeout=10_000)
            answered = status.first.inner_text().strip()
            # On a phone, nothing is wider than the screen (the error table breaks long names).
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(f"{live_server}/docs")
            phone.wait_for_selector("#errors")
            phone_width = phone.evaluate("document.documentElement.scrollWidth")
        finally:
            browser.close()
    assert first < table
    assert answered == "200"
    assert phone_width <= 390
    assert {"/api/predict", "/api/predict/batch", "/api/model", "/healthz"} <= {
        p.replace("\u200b", "") for p in paths
    }
    assert {"application/json", "multipart/form-data", "image/png"} <= set(types)
    assert errors == []
    assert foreign == []


def test_every_error_code_the_source_raises_is_in_the_tables():
    """A code raised but not listed (lab_results_missing was) is one a client cannot look up."""
    listed = {code for row in (*DRAWING_ERRORS, *ADMIN_ERRORS) for code in row.codes}
    raised = set()
    for path in [*(ROOT / "app").rglob("*.py"), *(ROOT / "model").rglob("*.py")]:
        text = path.read_text()
        raised |= set(re.findall(r'(?:ApiError|error_response)\(\s*\d+,\s*"([a-z_]+)"', text))
        raised |= set(re.findall(r'\bcode="([a-z_]+)"', text))
    assert len(raised) > 30
    assert raised - listed == {"internal_error"}  # a 500 is a bug, not an answer to look up
