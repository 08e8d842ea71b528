"""POST /api/predict: every accepted input form gives the same, well-formed answer."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from drawings import SEVEN_PIXELS, SEVEN_PNG, data_url, encode, seven_image

from model.registry import Registry


def check_prediction(body: dict, version: str) -> None:
    """The response contract: shapes, ranges and the relations between the fields."""
    required = {
        "digit",
        "confidence",
        "probabilities",
        "verdict",
        "unsure",
        "runner_up",
        "too_small",
        "model",
    }
    assert set(body) - {"not_a_digit"} == required  # absent for a model without that output
    assert body["verdict"] in ("digit", "unsure", "not_a_digit")
    assert body["unsure"] is (body["verdict"] == "unsure")
    assert 0 <= body.get("not_a_digit", 0) <= 1
    p = np.array(body["probabilities"])
    assert p.shape == (10,)
    assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-4
    assert body["digit"] == int(np.argmax(p))
    assert body["confidence"] == p[body["digit"]]
    # The second most likely digit; probabilities are rounded, so several may tie (e.g. at 0.0).
    others = np.delete(p, body["digit"])
    assert body["runner_up"] != body["digit"] and p[body["runner_up"]] == others.max()
    assert body["model"]["version"] == version
    assert body["model"]["created"]


@pytest.fixture
def version(client, tmp_path) -> str:
    return Registry(tmp_path).active_version()


def test_json_pixels_as_rows(client, version):
    r = client.post("/api/predict", json={"pixels": SEVEN_PIXELS})
    assert r.status_code == 200
    check_prediction(r.json(), version)
    assert r.json()["digit"] == 7


def test_json_pixels_flat_gives_the_same_answer_as_rows(client):
    rows = client.post("/api/predict", json={"pixels": SEVEN_PIXELS}).json()
    flat = client.post("/api/predict", json={"pixels": np.ravel(SEVEN_PIXELS).tolist()}).json()
    assert flat == rows


def test_json_data_url_from_a_canvas(client, version):
    r = client.post("/api/predict", json={"image": data_url(SEVEN_PNG)})
    assert r.status_code == 200
    check_prediction(r.json(), version)
    assert r.json()["digit"] == 7


def test_a_data_url_in_capitals_or_broken_over_lines_is_read(client):
    """As `base64` without -w0 and Python's encodebytes write it, and with the scheme and type
    in capitals (RFC 2397: case does not matter there)."""
    encoded = base64.b64encode(SEVEN_PNG).decode()
    for url in (
        "data:image/png;base64," + base64.encodebytes(SEVEN_PNG).decode(),  # 76-character lines
        "DATA:IMAGE/PNG;BASE64," + encoded,
        "data:image/png;base64,\r\n"
        + "\r\n".join(encoded[i : i + 64] for i in range(0, len(encoded), 64)),
    ):
        r = client.post("/api/predict", json={"image": url})
        assert r.status_code == 200, r.text
        assert r.json()["digit"] == 7


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_multipart_upload_of_each_accepted_format(client, version, fmt):
    data = encode(seven_image(), fmt)
    r = client.post("/api/predict", files={"file": (f"seven.{fmt.lower()}", data)})
    assert r.status_code == 200, r.text
    check_prediction(r.json(), version)
    assert r.json()["digit"] == 7


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_raw_body_of_each_accepted_format(client, version, fmt):
    data = encode(seven_image(), fmt)
    r = client.post("/api/predict", content=data, headers={"content-type": f"image/{fmt.lower()}"})
    assert r.status_code == 200, r.text
    check_prediction(r.json(), version)
    assert r.json()["digit"] == 7


@pytest.mark.parametrize(
    "mime", ["image/jpeg", "image/webp", "image/gif", "image/bmp"], ids=lambda m: m[6:]
)
def test_data_urls_of_other_formats(client, mime):
    data = encode(seven_image(), mime.split("/")[1].upper())
    r = client.post("/api/predict", json={"image": data_url(data, mime)})
    assert r.status_code == 200, r.text
    assert r.json()["digit"] == 7


def test_every_form_of_the_same_drawing_agrees(client):
    """Upload, raw body and data URL of one PNG are the same input, so the same answer."""
    answers = [
        client.post("/api/predict", files={"file": ("d.png", SEVEN_PNG)}).json(),
        client.post(
            "/api/predict", content=SEVEN_PNG, headers={"content-type": "image/png"}
        ).json(),
        client.post("/api/predict", json={"image": data_url(SEVEN_PNG)}).json(),
    ]
    assert answers[0] == answers[1] == answers[2]


def test_include_input_returns_what_the_network_saw(client):
    r = client.post("/api/predict?include_input=true", files={"file": ("d.png", SEVEN_PNG)})
    assert r.status_code == 200
    seen = np.array(r.json()["input"])
    assert seen.shape == (28, 28)
    assert seen.min() >= 0 and seen.max() <= 1
    assert seen.max() == 1  # preprocessing normalises the strongest ink to 1
    # The digit is centred by mass, as MNIST's were: within a pixel of the middle.
    ys, xs = np.indices(seen.shape)
    assert abs((ys * seen).sum() / seen.sum() - 13.5) <= 1
    assert abs((xs * seen).sum() / seen.sum() - 13.5) <= 1


def test_include_input_echoes_pixels_as_they_were_sent(client):
    r = client.post("/api/predict", params={"include_input": "true"}, json={"pixels": SEVEN_PIXELS})
    assert np.allclose(r.json()["input"], SEVEN_PIXELS, atol=1e-4)


def test_input_is_absent_unless_asked_for(client):
    assert "input" not in client.post("/api/predict", json={"pixels": SEVEN_PIXELS}).json()


def test_unsure_follows_the_threshold(make_client, mnist):
    """unsure is exactly confidence < threshold, unless the verdict is "not a digit" (checked on
    real digits, where both occur)."""
    client = make_client(unsure_threshold=0.99)
    items = [{"pixels": (d / 255).tolist()} for d in mnist.test_x[:1000]]
    predictions = client.post("/api/predict/batch", json={"items": items}).json()["predictions"]
    flags = [p["unsure"] for p in predictions]
    assert flags == [p["confidence"] < 0.99 and p["verdict"] != "not_a_digit" for p in predictions]
    assert any(flags) and not all(flags)


def test_a_zero_threshold_is_never_unsure(make_client):
    client = make_client(unsure_threshold=0.0)
    assert client.post("/api/predict", json={"pixels": SEVEN_PIXELS}).json()["unsure"] is False
