"""Where a drawing is read (app/routes/drawing.py's rule): a canvas-sized PNG on the event loop
while it is the only drawing being read; any larger image, any other format, and any image while
another drawing is being read, in the threadpool."""

from __future__ import annotations

import asyncio

import pytest
from drawings import data_url, encode, seven_image
from PIL import Image

from app.inputs import declared_png_pixels
from app.schemas import DrawingInput
from model.decode import png_pixels


def canvas(size: int, fmt: str = "PNG") -> bytes:
    """The example seven on a transparent square canvas of ``size`` pixels a side."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    seven = seven_image().getchannel("A").resize((size // 2, size // 2))
    image.paste((0, 0, 0, 255), (size // 4, size // 4), seven)
    return encode(image, fmt)  # a JPEG is flattened onto white


@pytest.fixture
def read_on(client):
    """Post a drawing; → ("loop" or "threadpool", the answer's status). The served predictor's
    predict_one is wrapped to note where it ran: only the event loop's thread has a running
    loop."""
    predictor = client.app.state.predictor
    original = predictor.predict_one
    where = []

    def noting(drawing, include_input=False):
        try:
            asyncio.get_running_loop()
            where.append("loop")
        except RuntimeError:
            where.append("threadpool")
        return original(drawing, include_input)

    predictor.predict_one = noting

    def post(**request) -> tuple[str, int]:
        where.clear()
        status = client.post("/api/predict", **request).status_code
        return where[-1], status

    yield post
    predictor.predict_one = original


def test_a_canvas_png_alone_is_read_on_the_loop_in_every_form(read_on):
    png = canvas(280)
    assert read_on(files={"file": ("d.png", png)}) == ("loop", 200)
    assert read_on(content=png, headers={"Content-Type": "image/png"}) == ("loop", 200)
    assert read_on(json={"image": data_url(png)}) == ("loop", 200)  # as the page sends it


def test_larger_images_and_other_formats_are_read_in_the_threadpool(read_on):
    assert read_on(files={"file": ("d.png", canvas(301))}) == ("threadpool", 200)  # 90,601 px
    assert read_on(files={"file": ("d.png", canvas(300))}) == ("loop", 200)  # 90,000 px
    jpeg = canvas(280, "JPEG")
    assert read_on(files={"file": ("d.jpg", jpeg)}) == ("threadpool", 200)
    assert read_on(json={"image": data_url(jpeg, "image/jpeg")}) == ("threadpool", 200)


def test_while_another_drawing_is_being_read_a_canvas_goes_to_the_threadpool(client, read_on):
    with client.app.state.predictions_in_flight.slot():  # another drawing, in flight
        assert read_on(files={"file": ("d.png", canvas(280))}) == ("threadpool", 200)
    assert read_on(files={"file": ("d.png", canvas(280))}) == ("loop", 200)


def test_a_png_header_is_read_without_decoding_and_anything_else_has_none():
    assert png_pixels(canvas(280)) == 78_400
    assert png_pixels(canvas(280)[:23]) is None  # too short to hold the header
    assert png_pixels(canvas(280, "JPEG")) is None
    assert png_pixels(b"not an image at all, but long enough") is None
    assert declared_png_pixels(DrawingInput(image=data_url(canvas(40)))) == 1600
    assert declared_png_pixels(DrawingInput(image="data:image/png;base64,!!!!")) is None
    assert declared_png_pixels(DrawingInput(pixels=[[0.0] * 28] * 28)) is None
