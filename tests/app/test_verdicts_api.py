"""Verdicts through the API: a tap is too small, a model's "not a digit" output is heard, unsure
is the verdict's flag, every route answers them, and /metrics counts them."""

from __future__ import annotations

import re

import numpy as np
from drawings import SEVEN_PIXELS, data_url, encode
from PIL import Image, ImageDraw

from model.network import MLP
from model.registry import Registry


def _canvas(shape: str) -> bytes:
    """A 280×280 canvas (transparent, dark ink) with a tap, a short tick, a one-stroke 1, or a
    small one: a quarter of the canvas, the smallest digit people draw on purpose."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    ink = (17, 17, 17, 255)
    if shape == "tap":
        pen.ellipse((130, 130, 151, 151), fill=ink)
    elif shape == "tick":
        pen.line((130, 140, 150, 125), fill=ink, width=21)
    elif shape == "small one":
        pen.line((140, 110, 137, 160), fill=ink, width=21)  # 71 px tall with the brush
    else:
        pen.line((140, 60, 135, 220), fill=ink, width=21)
    return encode(image, "PNG")


def test_a_tap_and_a_tick_are_too_small_and_a_one_is_a_digit(client):
    answers = {
        shape: client.post("/api/predict", json={"image": data_url(_canvas(shape))}).json()
        for shape in ("tap", "tick", "one", "small one")
    }
    for shape in ("tap", "tick"):
        assert answers[shape]["verdict"] == "not_a_digit" and answers[shape]["too_small"], shape
        assert not answers[shape]["unsure"]
    one = answers["one"]
    assert one["verdict"] == "digit" and one["digit"] == 1 and not one["too_small"]
    assert not answers["small one"]["too_small"]  # small, but drawn on purpose


def test_pixels_in_mnist_form_are_never_too_small(client):
    body = client.post("/api/predict", json={"pixels": SEVEN_PIXELS}).json()
    assert body["verdict"] == "digit" and not body["too_small"]


def _always_not_a_digit() -> MLP:
    """784 → 11 outputs whose eleventh always wins by far; the digits still rank 3 first."""
    weights, biases = [np.zeros((784, 11))], [np.zeros(11)]
    biases[0][10], biases[0][3], biases[0][5] = 30.0, 4.0, 2.0
    return MLP([784, 11], weights=weights, biases=biases)


def test_a_model_with_a_not_a_digit_output_is_heard_on_every_route(client, tmp_path):
    registry = Registry(tmp_path)
    version = registry.add(_always_not_a_digit(), {"calibration": {"temperature": 2.0}})
    registry.activate(version)
    client.app.state.serving.refresh()
    body = client.post("/api/predict", json={"pixels": SEVEN_PIXELS}).json()
    assert body["verdict"] == "not_a_digit" and body["not_a_digit"] > 0.99
    assert (body["digit"], body["runner_up"]) == (3, 5)
    # the digits' own probabilities, at the model's temperature: softmax of (4, 2, 0…) / 2
    z = np.array([0, 0, 0, 4, 0, 2, 0, 0, 0, 0]) / 2.0
    expected = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(body["probabilities"], expected, atol=1e-6)
    batch = client.post("/api/predict/batch", json={"items": [{"pixels": SEVEN_PIXELS}] * 2})
    assert [p["verdict"] for p in batch.json()["predictions"]] == ["not_a_digit"] * 2
    explained = client.post("/api/explain", json={"pixels": SEVEN_PIXELS}).json()
    assert explained["verdict"] == "not_a_digit" and len(explained["scores"]) == 11
    assert explained["evidence"]["digit"] == 3  # a digit, never the eleventh output


def test_unsure_is_exactly_the_unsure_verdict_and_metrics_count_verdicts(make_client):
    client = make_client(unsure_threshold=1.0)  # nothing is ever sure enough
    body = client.post("/api/predict", json={"pixels": SEVEN_PIXELS}).json()
    assert body["verdict"] == "unsure" and body["unsure"]
    client.post("/api/predict", json={"image": data_url(_canvas("tap"))})
    text = client.get("/metrics").text

    def count(verdict: str) -> float:
        found = re.search(rf'^digits_verdicts_total{{verdict="{verdict}"}} (\S+)$', text, re.M)
        return float(found.group(1))

    assert (count("unsure"), count("not_a_digit"), count("digit")) == (1.0, 1.0, 0.0)
