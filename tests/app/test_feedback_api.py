"""POST /api/feedback: every drawing form, what is stored, the errors, and the rate limit."""

from __future__ import annotations

import io
import sqlite3

import numpy as np
import pytest
from drawings import SEVEN_DATA_URL, SEVEN_PIXELS, SEVEN_PNG, data_url, encode, seven_image
from PIL import Image

from app.feedback.store import DB_NAME, FeedbackStore


def _store(client) -> FeedbackStore:
    return client.app.state.feedback


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=["PNG"])
    image.load()
    return image


def test_json_data_url_is_stored_with_everything_the_issue_lists(client):
    r = client.post(
        "/api/feedback",
        json={"image": SEVEN_DATA_URL, "label": 7, "predicted": 1, "model_version": "v-1"},
    )
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"id"}
    sample = _store(client).get(r.json()["id"])
    assert (sample.label, sample.predicted, sample.model_version) == (7, 1, "v-1")
    assert sample.pixels.dtype == np.uint8 and sample.pixels.shape == (28, 28)
    # the stored 28×28 is what /api/predict's preprocessing makes of the drawing
    seen = client.post("/api/predict?include_input=true", json={"image": SEVEN_DATA_URL}).json()
    expected = np.round(np.asarray(seen["input"], dtype=np.float32) * 255).astype(np.uint8)
    assert np.abs(sample.pixels.astype(int) - expected).max() <= 1
    original = _store(client).original(sample.id)  # the PNG's pixels, re-encoded
    assert np.array_equal(np.asarray(_png(original)), np.asarray(_png(SEVEN_PNG)))
    assert sample.created.endswith("+00:00") and sample.wrong


def test_multipart_raw_bytes_and_pixels_are_accepted(client):
    jpeg = encode(seven_image(), "JPEG")
    a = client.post(
        "/api/feedback",
        files={"file": ("7.jpg", jpeg, "image/jpeg")},
        data={"label": "7", "predicted": "7"},
    )
    b = client.post(
        "/api/feedback?label=7", content=SEVEN_PNG, headers={"Content-Type": "image/png"}
    )
    c = client.post("/api/feedback", json={"pixels": SEVEN_PIXELS, "label": 7})
    assert [r.status_code for r in (a, b, c)] == [201, 201, 201], (a.text, b.text, c.text)
    store = _store(client)
    jpeg_original = store.original(a.json()["id"])
    assert jpeg_original.startswith(b"\x89PNG")  # a JPEG is kept as PNG
    assert store.original(c.json()["id"]) is None  # pixels have no original image
    assert store.get(a.json()["id"]).predicted == 7 and not store.get(a.json()["id"]).wrong
    assert store.get(b.json()["id"]).predicted is None
    assert len({a.json()["id"], b.json()["id"], c.json()["id"]}) == 3


def test_nothing_that_identifies_a_person_is_stored(client, tmp_path):
    client.post(
        "/api/feedback",
        json={"image": SEVEN_DATA_URL, "label": 7},
        headers={"User-Agent": "Secret-Browser/9.9", "X-Forwarded-For": "203.0.113.77"},
    )
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(feedback)")}
        dump = "\n".join(db.iterdump())
    assert columns == {
        "id",
        "created",
        "label",
        "predicted",
        "model_version",
        "pixels",
        "original",
        "digest",
    }
    for secret in ("Secret-Browser", "203.0.113.77", "testclient", "127.0.0.1"):
        assert secret not in dump


@pytest.mark.parametrize(
    "body",
    [
        {"image": SEVEN_DATA_URL, "label": 10},
        {"image": SEVEN_DATA_URL, "label": -1},
        {"image": SEVEN_DATA_URL, "label": "seven"},
        {"image": SEVEN_DATA_URL},
        {"image": SEVEN_DATA_URL, "label": 7, "predicted": 12},
        {"image": SEVEN_DATA_URL, "label": 7, "model_version": "v\u0000x"},
        {"image": SEVEN_DATA_URL, "label": 7, "model_version": "v\u0085x"},  # C1's NEL
        {"image": SEVEN_DATA_URL, "label": 7, "model_version": "v" * 201},
    ],
)
def test_a_bad_label_or_model_version_gets_422(client, body):
    r = client.post("/api/feedback", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    assert _store(client).count() == 0


def test_label_errors_in_forms_and_query(client):
    r = client.post(
        "/api/feedback", files={"file": ("7.png", SEVEN_PNG, "image/png")}, data={"label": "11"}
    )
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["body", "label"]
    r = client.post("/api/feedback", content=SEVEN_PNG, headers={"Content-Type": "image/png"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["loc"] == ["query", "label"]


def test_a_blank_drawing_gets_422(client):
    from PIL import Image

    blank = data_url(encode(Image.new("RGB", (280, 280), "white")))
    r = client.post("/api/feedback", json={"image": blank, "label": 3})
    assert r.status_code == 422 and r.json()["error"]["code"] == "blank_image"
    r = client.post("/api/feedback", json={"pixels": [0] * 784, "label": 3})
    assert r.status_code == 422 and r.json()["error"]["code"] == "blank_image"
    assert _store(client).count() == 0


def test_an_oversized_body_gets_413(make_client):
    client = make_client(max_body_bytes=10_000)
    big = data_url(b"\x89PNG\r\n\x1a\n" + b"0" * 20_000)
    r = client.post("/api/feedback", json={"image": big, "label": 1})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    assert _store(client).count() == 0


def test_other_bad_input_is_a_4xx_never_a_500(client):
    assert (
        client.post(
            "/api/feedback", content=b"x", headers={"Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    assert (
        client.post(
            "/api/feedback", content=b"{", headers={"Content-Type": "application/json"}
        ).json()["error"]["code"]
        == "invalid_json"
    )
    r = client.post("/api/feedback", json={"image": data_url(SEVEN_PNG[:60]), "label": 1})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_image"
    r = client.post("/api/feedback", json={"image": data_url(b"GIF-ish"), "label": 1})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_image_format"
    r = client.post("/api/feedback", json={"image": SEVEN_DATA_URL, "label": 1, "who": "me"})
    assert r.status_code == 422
    # more form fields than a feedback post has: Starlette's bare 400 before (found by the fuzz)
    fields = {f"field{i}": "x" for i in range(11)}
    r = client.post("/api/feedback", data=fields, files={"file": ("a.png", SEVEN_PNG)})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert "Too many fields" in r.json()["error"]["message"]


def test_a_large_original_is_not_kept_but_the_sample_is(make_client):
    client = make_client(feedback_max_original_bytes=100)
    r = client.post("/api/feedback", json={"image": SEVEN_DATA_URL, "label": 7})
    assert r.status_code == 201
    assert _store(client).original(r.json()["id"]) is None
    assert _store(client).get(r.json()["id"]).pixels.max() > 0


def test_the_rate_limit_gets_429_per_client(make_client):
    client = make_client(feedback_rate_limit=3)
    codes = [
        client.post("/api/feedback", json={"pixels": SEVEN_PIXELS, "label": 7}).status_code
        for _ in range(5)
    ]
    assert codes == [201, 201, 201, 429, 429]
    r = client.post("/api/feedback", json={"pixels": SEVEN_PIXELS, "label": 7})
    assert r.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert _store(client).count() == 3
    # another client is not affected
    limiter = client.app.state.feedback_limiter
    assert limiter.check("198.51.100.1") is None


def test_a_rate_limit_of_zero_turns_it_off(make_client):
    client = make_client(feedback_rate_limit=0)
    for _ in range(70):
        r = client.post("/api/feedback", json={"pixels": SEVEN_PIXELS, "label": 7})
        assert r.status_code == 201
    assert _store(client).count() == 70


def test_the_rate_limit_defaults_to_60_and_reads_the_environment(monkeypatch):
    from app.config import Settings

    assert Settings().feedback_rate_limit == 60
    monkeypatch.setenv("DIGITS_FEEDBACK_RATE_LIMIT", "0")
    assert Settings().feedback_rate_limit == 0


def test_a_drawing_can_be_said_to_be_no_digit_at_all(client):
    """The strip's "Not a digit" answer: stored as label 10."""
    r = client.post(
        "/api/feedback", json={"image": SEVEN_DATA_URL, "label": "not_a_digit", "predicted": 7}
    )
    assert r.status_code == 201, r.text
    sample = _store(client).get(r.json()["id"])
    assert sample.label == 10 and sample.wrong
    form = client.post(
        "/api/feedback",
        files={"file": ("x.png", SEVEN_PNG, "image/png")},
        data={"label": "not_a_digit"},
    )
    assert form.status_code == 201 and _store(client).get(form.json()["id"]).label == 10
    for bad in ("not a digit", "10", "x"):
        r = client.post("/api/feedback", json={"image": SEVEN_DATA_URL, "label": bad})
        assert r.status_code == 422, bad


def test_the_openapi_document_describes_every_form_feedback_takes(client):
    """A client made from /openapi.json can send raw bytes of any accepted type with the labels
    as query parameters, and "not_a_digit" in a multipart form, as the server takes them."""
    operation = client.get("/openapi.json").json()["paths"]["/api/feedback"]["post"]
    content = operation["requestBody"]["content"]
    assert {"image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp"} <= set(content)
    query = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert set(query) == {"label", "predicted", "model_version"}
    form_label = content["multipart/form-data"]["schema"]["properties"]["label"]
    for label in (form_label, query["label"]["schema"]):
        assert {"const": "not_a_digit"} in label["anyOf"]
    jpeg = encode(seven_image(), "JPEG")
    r = client.post(
        "/api/feedback?label=7&predicted=1",
        content=jpeg,
        headers={"content-type": "image/jpeg"},
    )
    assert r.status_code == 201
    r = client.post(
        "/api/feedback",
        files={"file": ("7.png", SEVEN_PNG, "image/png")},
        data={"label": "not_a_digit"},
    )
    assert r.status_code == 201 and _store(client).get(r.json()["id"]).label == 10
