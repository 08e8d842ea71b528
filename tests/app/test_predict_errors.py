"""Bad input to /api/predict (and /api/explain, which reads drawings the same way): a clear 4xx
with a stable code, never a 500, and service goes on."""

from __future__ import annotations

import io

import numpy as np
import pytest
from drawings import SEVEN_PIXELS, SEVEN_PNG, data_url, encode, png_declaring, seven_image
from fastapi.testclient import TestClient
from PIL import Image

from app.config import Settings
from app.main import create_app

JSON = {"content-type": "application/json"}


def raw(data: bytes, content_type: str = "image/png") -> dict:
    return {"content": data, "headers": {"content-type": content_type}}


def pixels(value) -> dict:
    return {"json": {"pixels": value}}


def image(url: str) -> dict:
    return {"json": {"image": url}}


def blank(colour, mode="RGB") -> bytes:
    return encode(Image.new(mode, (120, 90), colour))


def big_noise_png(width: int, height: int) -> bytes:
    """A real, decodable PNG just over the pixel limit (noise does not compress away)."""
    rng = np.random.default_rng(0)
    return encode(Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8)))


ROW = [0.0] * 28
CASES = {
    # --- image bytes --------------------------------------------------------------------------
    "not an image": (raw(b"hello, this is text"), 415, "unsupported_image_format"),
    "not an image, uploaded": (
        {"files": {"file": ("a.png", b"\x00\x01garbage")}},
        415,
        "unsupported_image_format",
    ),
    "TIFF": (raw(encode(seven_image(), "TIFF"), "image/tiff"), 415, "unsupported_image_format"),
    "TIFF, uploaded": (
        {"files": {"file": ("a.tif", encode(seven_image(), "TIFF"))}},
        415,
        "unsupported_image_format",
    ),
    "truncated PNG": (raw(SEVEN_PNG[: len(SEVEN_PNG) // 2]), 422, "invalid_image"),
    "PNG header only": (raw(SEVEN_PNG[:40]), 422, "invalid_image"),
    "bomb 20000x20000": (raw(png_declaring(20_000, 20_000)), 413, "image_too_large"),
    "header 3000x3000": (raw(png_declaring(3_000, 3_000)), 413, "image_too_large"),
    "empty raw body": (raw(b""), 422, "empty_body"),
    "a JSON body of spaces": (raw(b" \r\n", "application/json"), 422, "empty_body"),
    "blank white PNG": (raw(blank("white")), 422, "blank_image"),
    "blank coloured PNG": (raw(blank((30, 120, 200))), 422, "blank_image"),
    "transparent canvas": (raw(blank((0, 0, 0, 0), "RGBA")), 422, "blank_image"),
    # --- pixels ---------------------------------------------------------------------------------
    "783 pixels": (pixels([0.5] * 783), 422, "bad_pixels"),
    "785 pixels": (pixels([0.5] * 785), 422, "bad_pixels"),
    "no pixels": (pixels([]), 422, "bad_pixels"),
    "pixel above 1": (pixels([1.5] + [0.5] * 783), 422, "bad_pixels"),
    "pixel below 0": (pixels([-0.1] + [0.5] * 783), 422, "bad_pixels"),
    "0-255 scale": (pixels([255.0] * 784), 422, "bad_pixels"),
    "NaN literal": (
        {"content": b'{"pixels": [NaN' + b", 0.5" * 783 + b"]}", "headers": JSON},
        422,
        "bad_pixels",
    ),
    "Infinity literal": (
        {"content": b'{"pixels": [Infinity' + b", 0.5" * 783 + b"]}", "headers": JSON},
        422,
        "bad_pixels",
    ),
    "overflowing number": (
        {"content": b'{"pixels": [1e999' + b", 0.5" * 783 + b"]}", "headers": JSON},
        422,
        "bad_pixels",
    ),
    "27 rows of 28": (pixels([ROW] * 27), 422, "bad_pixels"),
    "28 rows of 27": (pixels([[0.5] * 27] * 28), 422, "bad_pixels"),
    "ragged rows": (pixels([ROW] * 27 + [[0.5] * 27]), 422, "bad_pixels"),
    "784 rows of 1": (pixels([[0.5]] * 784), 422, "bad_pixels"),
    "three levels deep": (pixels([[ROW] * 28]), 422, "bad_pixels"),
    "strings as pixels": (pixels(["dark"] * 784), 422, "bad_pixels"),
    "numbers as strings": (pixels(["0.5"] * 784), 422, "bad_pixels"),
    "booleans as pixels": (pixels([True] * 784), 422, "bad_pixels"),
    "a boolean among numbers": (pixels([True] + [0.5] * 783), 422, "bad_pixels"),
    "a boolean in a row": (pixels([[False] + [0.5] * 27] + [[0.5] * 28] * 27), 422, "bad_pixels"),
    "an integer too large for NumPy": (pixels([10**30] + [0] * 783), 422, "bad_pixels"),
    "a null pixel": (pixels([None] + [0.5] * 783), 422, "bad_pixels"),
    "pixels not a list": (pixels("0.5"), 422, "validation_error"),
    "all-zero pixels": (pixels([ROW] * 28), 422, "blank_image"),
    # --- data URLs ------------------------------------------------------------------------------
    "bad base64": (image("data:image/png;base64,iVBOR!!not*base64"), 422, "bad_data_url"),
    "base64 of garbage": (image(data_url(b"garbage bytes")), 415, "unsupported_image_format"),
    "not a data URL": (image("iVBORw0KGgoAAAANSUhEUgAA"), 422, "bad_data_url"),
    "URL instead": (image("https://example.com/seven.png"), 422, "bad_data_url"),
    "no comma": (image("data:image/png;base64"), 422, "bad_data_url"),
    "no data after the comma": (image("data:image/png;base64,"), 422, "bad_data_url"),
    "not base64": (image("data:image/png,%89PNG"), 422, "bad_data_url"),
    "base64 split by a Unicode space": (
        image(data_url(SEVEN_PNG).replace("iVBOR", "iVB\u3000OR", 1)),
        422,
        "bad_data_url",
    ),
    "base64 split by a control character": (
        image(data_url(SEVEN_PNG).replace("iVBOR", "iVB\x1fOR", 1)),
        422,
        "bad_data_url",
    ),
    "data URL of TIFF type": (
        image(data_url(encode(seven_image(), "TIFF"), "image/tiff")),
        415,
        "unsupported_image_format",
    ),
    "data URL of text": (image("data:text/plain;base64,aGVsbG8="), 415, "unsupported_image_format"),
    "data URL of a blank PNG": (image(data_url(blank("white"))), 422, "blank_image"),
    "data URL, truncated PNG": (image(data_url(SEVEN_PNG[:100])), 422, "invalid_image"),
    # --- request shape --------------------------------------------------------------------------
    "text/plain": (raw(b"7", "text/plain"), 415, "unsupported_media_type"),
    "no content type": ({"content": SEVEN_PNG}, 415, "unsupported_media_type"),
    "form-urlencoded": ({"data": {"pixels": "0.5"}}, 415, "unsupported_media_type"),
    "octet-stream": (raw(SEVEN_PNG, "application/octet-stream"), 415, "unsupported_media_type"),
    "empty JSON object": ({"json": {}}, 422, "validation_error"),
    "both pixels and image": (
        {"json": {"pixels": SEVEN_PIXELS, "image": data_url(SEVEN_PNG)}},
        422,
        "validation_error",
    ),
    "unknown field": ({"json": {"pixels": SEVEN_PIXELS, "label": 7}}, 422, "validation_error"),
    "JSON array": ({"json": [SEVEN_PIXELS]}, 422, "validation_error"),
    "JSON null image": ({"json": {"image": None}}, 422, "validation_error"),
    "image not a string": ({"json": {"image": 7}}, 422, "validation_error"),
    "malformed JSON": ({"content": b'{"pixels": [0.5,', "headers": JSON}, 422, "invalid_json"),
    "empty JSON body": ({"content": b"", "headers": JSON}, 422, "empty_body"),
    "not UTF-8": ({"content": b'{"image": "\xff\xfe"}', "headers": JSON}, 422, "invalid_json"),
    "deeply nested JSON": ({"content": b"[" * 100_000, "headers": JSON}, 422, "invalid_json"),
    "multipart without file": ({"files": {"other": ("a.png", SEVEN_PNG)}}, 422, "validation_error"),
    "multipart with a text field": (
        {"data": {"file": "seven"}, "files": {"x": ("a", b"1")}},
        422,
        "validation_error",
    ),
    # Starlette's parser refuses these with a bare 400; found by the API fuzz.
    "malformed multipart": (
        raw(b"--x\r\n[True]--x--\r\n", "multipart/form-data; boundary=x"),
        422,
        "validation_error",
    ),
    "multipart, no boundary": (
        raw(b"--x\r\n\r\n--x--", "multipart/form-data"),
        422,
        "validation_error",
    ),
}


@pytest.mark.parametrize("endpoint", ["/api/predict", "/api/explain"])
@pytest.mark.parametrize(("request_kwargs", "status", "code"), CASES.values(), ids=CASES.keys())
def test_bad_input_gets_a_clear_error(client, request_kwargs, status, code, endpoint):
    r = client.post(endpoint, **request_kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert error["code"] == code
    assert len(error["message"]) > 15
    # The server is unharmed: the next request is answered normally.
    assert client.post(endpoint, json={"pixels": SEVEN_PIXELS}).status_code == 200


def test_pixels_that_are_no_numbers_or_far_out_of_range_are_told_apart(client):
    """JSON's true is no number, even beside numbers; 10**30 is a number, too large."""
    said = {
        reason: client.post("/api/predict", **pixels(values)).json()["error"]["message"]
        for reason, values in {
            "not numbers": [True] + [0.5] * 783,
            "far outside [0, 1]": [10**30] + [0] * 783,
        }.items()
    }
    for reason, message in said.items():
        assert message.startswith("pixels must be 784 numbers or 28 rows of 28, in [0, 1]")
        assert message.endswith(f"some values are {reason}"), message


def test_unaccepted_formats_are_named_with_what_is_accepted(client):
    r = client.post("/api/predict", **raw(encode(seven_image(), "TIFF"), "image/tiff"))
    message = r.json()["error"]["message"]
    assert "TIFF" in message
    for name in ("PNG", "JPEG", "WebP", "GIF", "BMP"):
        assert name in message
    # every message names them the same way
    for body in (b"", b"not an image at all"):
        message = client.post("/api/predict", **raw(body)).json()["error"]["message"]
        assert "PNG, JPEG, WebP, GIF or BMP" in message, message


def test_unsupported_content_type_lists_the_accepted_ones(client):
    message = client.post("/api/predict", **raw(b"7", "text/plain")).json()["error"]["message"]
    for accepted in ("application/json", "multipart/form-data", "image/"):
        assert accepted in message


def test_image_size_is_checked_before_decoding(make_client):
    """A real, decodable image over max_image_pixels is refused from its header."""
    client = make_client(max_image_pixels=10_000)
    r = client.post("/api/predict", **raw(big_noise_png(101, 100)))
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "image_too_large"
    assert "10000" in r.json()["error"]["message"]
    # Just under the limit decodes (and the noise is read as some digit).
    assert client.post("/api/predict", **raw(big_noise_png(100, 100))).status_code == 200


def test_validation_errors_keep_their_details(client):
    r = client.post("/api/predict", json={"pixels": SEVEN_PIXELS, "image": data_url(SEVEN_PNG)})
    error = r.json()["error"]
    assert "exactly one of 'pixels'" in error["message"]
    assert error["details"][0]["loc"] == ["body"]
    assert error["details"][0]["type"] == "pixels_or_image"


def test_a_bad_query_parameter_is_a_validation_error(client):
    r = client.post("/api/predict?include_input=perhaps", json={"pixels": SEVEN_PIXELS})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    assert r.json()["error"]["details"][0]["loc"] == ["query", "include_input"]


def test_unknown_route_and_wrong_method_use_the_error_shape(client):
    r = client.get("/api/nothing-here")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    r = client.get("/api/predict")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
    assert r.headers["allow"] == "POST"
    assert r.json()["error"]["message"] == "/api/predict does not take GET; it takes POST"


def test_a_png_posing_as_jpeg_is_still_read(client):
    """The format is read from the bytes; the declared image/* type is only a label."""
    r = client.post("/api/predict", **raw(SEVEN_PNG, "image/jpeg"))
    assert r.status_code == 200
    assert r.json()["digit"] == 7


def test_a_greyscale_16_bit_png_is_read(client):
    grey = np.asarray(seven_image().convert("L"), dtype=np.uint16) * 257
    data = io.BytesIO()
    Image.fromarray(grey).save(data, format="PNG")
    r = client.post("/api/predict", **raw(data.getvalue()))
    assert r.status_code == 200
    assert r.json()["digit"] == 7


def test_an_unexpected_error_is_a_json_500_with_the_usual_headers(tmp_path):
    """A bug still answers in the error shape (the client is told it is the server's fault)."""
    app = create_app(Settings(home=tmp_path))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    app.state.predictor.predict_one = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/api/predict", json={"pixels": SEVEN_PIXELS})
        assert r.status_code == 500
        assert r.json()["error"]["code"] == "internal_error"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert client.get("/healthz").status_code == 200
