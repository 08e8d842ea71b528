"""POST /api/predict/batch: many drawings, one forward pass, answers in order."""

from __future__ import annotations

import base64
import json
import struct
import zlib

import numpy as np
import pytest
from drawings import SEVEN_PIXELS, SEVEN_PNG, data_url

N = 200


@pytest.fixture(scope="module")
def digits(mnist):
    """The first N MNIST test digits as pixel items, and their labels."""
    items = [{"pixels": (image / 255).round(4).tolist()} for image in mnist.test_x[:N]]
    return items, mnist.test_y[:N]


def test_batch_answers_in_order(client, digits):
    items, labels = digits
    r = client.post("/api/predict/batch", json={"items": items})
    assert r.status_code == 200
    predicted = np.array([p["digit"] for p in r.json()["predictions"]])
    assert predicted.shape == (N,)
    # In order: they match the labels item by item (a shuffled order would score ~10%).
    assert np.mean(predicted == labels) > 0.9


def test_batch_equals_one_by_one(client, digits):
    items, _ = digits
    batch = client.post("/api/predict/batch", json={"items": items[:12]}).json()["predictions"]
    singles = [client.post("/api/predict", json=item).json() for item in items[:12]]
    for b, s in zip(batch, singles, strict=True):
        assert b["digit"] == s["digit"] and b["runner_up"] == s["runner_up"]
        assert np.allclose(b["probabilities"], s["probabilities"], atol=2e-6)


def test_batch_mixes_pixels_and_images(client):
    items = [{"pixels": SEVEN_PIXELS}, {"image": data_url(SEVEN_PNG)}, {"pixels": SEVEN_PIXELS}]
    r = client.post("/api/predict/batch?include_input=true", json={"items": items})
    predictions = r.json()["predictions"]
    assert [p["digit"] for p in predictions] == [7, 7, 7]
    assert all(np.array(p["input"]).shape == (28, 28) for p in predictions)
    assert predictions[0]["input"] == predictions[2]["input"]


def test_the_batch_limit_is_a_setting(make_client):
    client = make_client(batch_limit=3)
    ok = client.post("/api/predict/batch", json={"items": [{"pixels": SEVEN_PIXELS}] * 3})
    assert ok.status_code == 200
    r = client.post("/api/predict/batch", json={"items": [{"pixels": SEVEN_PIXELS}] * 4})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "batch_too_large"
    assert "at most 3" in r.json()["error"]["message"]


def test_the_default_limit_takes_1000_but_not_1001(client):
    small = {"pixels": SEVEN_PIXELS}
    assert client.post("/api/predict/batch", json={"items": [small] * 1000}).status_code == 200
    r = client.post("/api/predict/batch", json={"items": [small] * 1001})
    assert r.json()["error"]["code"] == "batch_too_large"


def test_an_empty_batch_is_refused(client):
    r = client.post("/api/predict/batch", json={"items": []})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "empty_batch"


def _png_header(side: int) -> str:
    """A PNG that is only its header, declaring side × side pixels, as base64."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


@pytest.mark.parametrize(
    ("bad_item", "status", "code"),
    [
        ({"pixels": [0.5] * 783}, 422, "bad_pixels"),
        ({"pixels": [float("nan")] * 784}, 422, "bad_pixels"),
        ({"image": "data:image/png;base64,@@@"}, 422, "bad_data_url"),
        ({"image": "data:image/tiff;base64,SUkqAA=="}, 415, "unsupported_image_format"),
        ({"image": f"data:image/png;base64,{_png_header(3000)}"}, 413, "image_too_large"),
        ({"pixels": [0.0] * 784}, 422, "blank_image"),
    ],
    ids=["short", "nan", "base64", "tiff", "huge", "blank"],
)
def test_a_bad_item_fails_the_batch_as_it_would_alone_and_is_named(client, bad_item, status, code):
    """The batch answers with the item's own error, status and code as /api/predict gives them
    (one code, one status, as the README's table lists them), and names the item."""
    items = [{"pixels": SEVEN_PIXELS}] * 2 + [bad_item] + [{"pixels": SEVEN_PIXELS}]
    body = json.dumps({"items": items})  # Python writes NaN as the (non-JSON) literal NaN
    r = client.post(
        "/api/predict/batch", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == status
    alone = client.post(
        "/api/predict", content=json.dumps(bad_item), headers={"content-type": "application/json"}
    )
    assert (alone.status_code, alone.json()["error"]["code"]) == (status, code)
    error = r.json()["error"]
    assert error["code"] == code
    assert error["details"] == {"index": 2}
    assert error["message"].startswith("item 2: ")


def test_a_malformed_item_is_named_by_its_position(client):
    items = [{"pixels": SEVEN_PIXELS}, {"pixels": SEVEN_PIXELS, "image": data_url(SEVEN_PNG)}]
    r = client.post("/api/predict/batch", json={"items": items})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    assert r.json()["error"]["details"][0]["loc"] == ["body", "items", 1]


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {}}, 422, "validation_error"),
        ({"json": {"items": "all of them"}}, 422, "validation_error"),
        ({"json": [{"pixels": SEVEN_PIXELS}]}, 422, "validation_error"),
        (
            {"content": b'{"items": [', "headers": {"content-type": "application/json"}},
            422,
            "invalid_json",
        ),
        (
            {"content": SEVEN_PNG, "headers": {"content-type": "image/png"}},
            415,
            "unsupported_media_type",
        ),
        ({"files": {"file": ("a.png", SEVEN_PNG)}}, 415, "unsupported_media_type"),
    ],
    ids=["no items", "items not a list", "bare list", "bad json", "image body", "multipart"],
)
def test_malformed_batches(client, kwargs, status, code):
    r = client.post("/api/predict/batch", **kwargs)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code


def test_batches_have_their_own_body_limit(make_client, digits):
    """A batch may be far larger than a single prediction's body limit, up to its own."""
    items, _ = digits
    small, large = (json.dumps({"items": items[:n]}).encode() for n in (50, N))
    single = json.dumps(items[0]).encode()
    client = make_client(max_body_bytes=len(single) - 1, max_batch_body_bytes=len(small))
    headers = {"content-type": "application/json"}
    assert client.post("/api/predict/batch", content=small, headers=headers).status_code == 200
    r = client.post("/api/predict/batch", content=large, headers=headers)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"
    r = client.post("/api/predict", content=single, headers=headers)
    assert r.status_code == 413
