"""Images that ask too much of the decoder, through every route that decodes one; EXIF
orientation; what a stored original keeps; and the batch's pixel budget."""

from __future__ import annotations

import io
import time

import numpy as np
from drawings import SEVEN_PNG, data_url
from hostile_images import (
    encode,
    jpeg_scan_bomb,
    png_with_chunks,
    png_with_metadata,
    rle4_bmp,
    with_orientation,
)
from PIL import Image, ImageDraw

import model.decode

BOMB = jpeg_scan_bomb(20_000)  # 288 kB; decoding it took 8.7 s on /api/predict


def _too_complex(r) -> bool:
    return r.status_code == 422 and r.json()["error"]["code"] == "image_too_complex"


def test_a_scan_bomb_is_refused_at_once_by_every_route_that_decodes(client):
    started = time.perf_counter()
    jpeg = {"Content-Type": "image/jpeg"}
    assert _too_complex(client.post("/api/predict", content=BOMB, headers=jpeg))
    assert _too_complex(client.post("/api/predict", files={"file": ("b.jpg", BOMB, "image/jpeg")}))
    assert _too_complex(client.post("/api/feedback?label=1", content=BOMB, headers=jpeg))
    url = data_url(BOMB, "image/jpeg")
    assert _too_complex(client.post("/api/feedback", json={"image": url, "label": 1}))
    batch = client.post("/api/predict/batch", json={"items": [{"image": url}]})
    assert _too_complex(batch) and batch.json()["error"]["details"] == {"index": 0}
    assert time.perf_counter() - started < 2.0  # five refusals, not five 9-second decodes
    assert client.app.state.feedback.count() == 0


def test_too_many_chunks_are_refused_too(client):
    r = client.post(
        "/api/predict", content=png_with_chunks(10_000), headers={"Content-Type": "image/png"}
    )
    assert _too_complex(r)


def test_the_decode_cpu_budget_is_a_setting(make_client):
    bmp = rle4_bmp()  # 0.2 s of Python per decode
    r = make_client(decode_cpu_seconds=0.02).post(
        "/api/predict", content=bmp, headers={"Content-Type": "image/bmp"}
    )
    assert _too_complex(r) and "CPU" in r.json()["error"]["message"]


def test_feedback_takes_a_slot_like_a_prediction(client):
    """It ran outside the bound: 45 feedback posts of a slow image starved the threadpool."""
    limit = client.app.state.predictions_in_flight
    limit.in_flight = limit.limit  # every slot taken
    try:
        r = client.post("/api/feedback", json={"image": data_url(SEVEN_PNG), "label": 7})
    finally:
        limit.in_flight = 0
    assert r.status_code == 503 and r.json()["error"]["code"] == "overloaded"
    assert r.headers["Retry-After"] == "1"
    assert client.app.state.feedback.count() == 0
    assert client.post("/api/feedback", json={"image": data_url(SEVEN_PNG), "label": 7}).is_success


def test_feedback_decodes_the_image_once(client, monkeypatch):
    calls = []
    decode = model.decode.decode_image

    def counting(*args, **kwargs):
        calls.append(1)
        return decode(*args, **kwargs)

    monkeypatch.setattr("app.inputs.decode_image", counting)
    jpeg = encode(Image.open(io.BytesIO(SEVEN_PNG)).convert("RGB"), "JPEG")
    r = client.post("/api/feedback?label=7", content=jpeg, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 201 and len(calls) == 1
    assert client.app.state.feedback.original(r.json()["id"]).startswith(b"\x89PNG")


def _one(height: int = 280, width: int = 280) -> Image.Image:
    """A canvas-like drawing of a 1: one upright stroke, black on white."""
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).line((140, 50, 140, 230), fill="black", width=20)
    return image


def test_a_phone_photo_is_read_the_way_up_its_exif_says(client):
    upright = client.post(
        "/api/predict?include_input=true",
        content=encode(_one(), "JPEG"),
        headers={"Content-Type": "image/jpeg"},
    ).json()
    assert upright["digit"] == 1
    # The camera stores the pixels turned a quarter and says "turn 90° clockwise to view".
    stored = _one().transpose(Image.Transpose.ROTATE_90)
    r = client.post(
        "/api/predict?include_input=true",
        content=with_orientation(stored, 6),
        headers={"Content-Type": "image/jpeg"},
    )
    assert r.status_code == 200 and r.json()["digit"] == 1
    seen, expected = np.asarray(r.json()["input"]), np.asarray(upright["input"])
    assert np.abs(seen - expected).mean() < 0.01  # the same up to JPEG's own noise
    as_stored = client.post(
        "/api/predict?include_input=true",
        content=encode(stored, "JPEG"),
        headers={"Content-Type": "image/jpeg"},
    ).json()
    assert np.abs(np.asarray(as_stored["input"]) - expected).mean() > 0.05  # a bar, not a 1


def test_a_stored_original_keeps_the_pixels_and_nothing_else(client):
    image = Image.open(io.BytesIO(SEVEN_PNG)).convert("RGBA")
    posted = png_with_metadata(image)
    assert b"Ada Lovelace" in posted and b"TRAILING" in posted
    r = client.post("/api/feedback?label=7", content=posted, headers={"Content-Type": "image/png"})
    assert r.status_code == 201, r.text
    stored = client.app.state.feedback.original(r.json()["id"])
    for secret in (b"Ada", b"ada@example.org", b"TRAILING", b"tEXt", b"eXIf", b"iCCP", b"Exif"):
        assert secret not in stored
    again = Image.open(io.BytesIO(stored))
    assert again.info == {} or set(again.info) <= {"dpi"}
    assert np.array_equal(np.asarray(again.convert("RGBA")), np.asarray(image))


def test_a_batch_has_a_pixel_budget(make_client):
    client = make_client(max_batch_pixels=2 * 140 * 140)
    items = [{"image": data_url(SEVEN_PNG)} for _ in range(3)]  # 140×140 each
    assert client.post("/api/predict/batch", json={"items": items[:2]}).status_code == 200
    r = client.post("/api/predict/batch", json={"items": items})
    assert r.status_code == 413
    error = r.json()["error"]
    assert error["code"] == "batch_too_many_pixels" and error["details"] == {"index": 2}
    assert "39200 pixels" in error["message"]
