"""POST /api/explain and GET /api/model/units: every input form, the shapes for any model, the
exact split of a ReLU score, and units cacheable per version."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from drawings import SEVEN_PIXELS, SEVEN_PNG, data_url, encode, seven_image

from model.network import MLP
from model.registry import Registry

FORMS = {
    "data URL": {"json": {"image": data_url(SEVEN_PNG)}},
    "pixels, rows": {"json": {"pixels": SEVEN_PIXELS}},
    "pixels, flat": {"json": {"pixels": np.ravel(SEVEN_PIXELS).tolist()}},
    "multipart": {"files": {"file": ("7.png", SEVEN_PNG, "image/png")}},
    "raw PNG": {"content": SEVEN_PNG, "headers": {"Content-Type": "image/png"}},
    "raw JPEG": {
        "content": encode(seven_image(), "JPEG"),
        "headers": {"Content-Type": "image/jpeg"},
    },
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_every_form_is_explained_with_the_prediction_it_gets(client, form):
    r = client.post("/api/explain", **form)
    assert r.status_code == 200, r.text
    body = r.json()
    predicted = client.post("/api/predict?include_input=true", **form).json()
    for key, value in predicted.items():  # the prediction is exactly /api/predict's
        assert body[key] == value, key
    assert body["digit"] == 7
    assert [(layer["size"], layer["activation"]) for layer in body["layers"]] == [
        (512, "relu"),
        (256, "relu"),
    ]
    assert all(len(layer["values"]) == layer["size"] for layer in body["layers"])
    assert min(min(layer["values"]) for layer in body["layers"]) >= 0  # ReLU
    # The probabilities are the calibrated softmax of the ten digit scores; "not a digit" is the
    # eleventh output's share of all eleven.
    scores = np.array(body["scores"])
    temperature = client.get("/api/model").json()["calibration"]["temperature"]
    digits = scores[:10] / temperature
    softmax = np.exp(digits - digits.max()) / np.exp(digits - digits.max()).sum()
    np.testing.assert_allclose(softmax, body["probabilities"], atol=2e-4)
    if len(scores) == 11:
        every = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
        assert body["not_a_digit"] == pytest.approx(every[10], abs=1e-5)
    evidence = body["evidence"]
    assert evidence["method"] == "gradient_x_input" and evidence["exact"]
    assert (evidence["digit"], evidence["runner_up"]) == (body["digit"], body["runner_up"])
    for key in ("for_digit", "versus_runner_up"):
        assert np.array(evidence[key]).shape == (28, 28)
    # The map plus the biases is the score (within the 4-decimal rounding of 784 values).
    assert np.sum(evidence["for_digit"]) + evidence["bias_for_digit"] == pytest.approx(
        scores[7], abs=0.05
    )
    margin = scores[7] - scores[body["runner_up"]]
    total = np.sum(evidence["versus_runner_up"]) + evidence["bias_versus_runner_up"]
    assert total == pytest.approx(margin, abs=0.05)
    # Where there is no ink there is no evidence.
    ink = np.array(body["input"])
    assert np.abs(np.array(evidence["for_digit"])[ink == 0]).max() == 0
    assert len(r.content) < 40_000


@pytest.mark.parametrize(
    ("sizes", "activation"),
    [
        ([784, 64, 10], "sigmoid"),
        ([784, 10], "relu"),
        ([784, 48, 32, 24, 10], "tanh"),
        ([784, 30, 20, 16, 10], "relu"),
    ],
)
def test_any_depth_and_activation(client, tmp_path, sizes, activation):
    registry = Registry(tmp_path)
    version = registry.add(MLP(sizes, activation, seed=1), {})
    registry.activate(version)
    client.app.state.serving.refresh()
    body = client.post("/api/explain", json={"pixels": SEVEN_PIXELS}).json()
    assert body["model"]["version"] == version
    assert [(layer["size"], layer["activation"]) for layer in body["layers"]] == [
        (size, activation) for size in sizes[1:-1]
    ]
    assert body["evidence"]["exact"] is (activation == "relu")
    if activation == "sigmoid":
        assert all(0 <= v <= 1 for v in body["layers"][0]["values"])
    if len(sizes) > 2:
        units = client.get("/api/model/units?top=5").json()
        assert units["version"] == version and units["size"] == sizes[1]


def test_a_model_without_hidden_layers_has_no_units_to_show(client, tmp_path):
    registry = Registry(tmp_path)
    version = registry.add(MLP([784, 10], seed=0), {})
    registry.activate(version)
    client.app.state.serving.refresh()
    assert client.post("/api/explain", json={"pixels": SEVEN_PIXELS}).json()["layers"] == []
    r = client.get("/api/model/units")
    assert r.status_code == 422 and "no hidden layer" in r.json()["error"]["message"]


def _weights(unit: dict) -> np.ndarray:
    raw = np.frombuffer(base64.b64decode(unit["weights"]), dtype=np.int8)
    return raw.astype(np.float64).reshape(28, 28) * unit["scale"] / 127


def test_units_are_the_first_layers_weights_most_varied_first(client, tmp_path):
    network = Registry(tmp_path).load_active().network
    body = client.get("/api/model/units").json()
    assert body["layer"] == 1 and body["size"] == 512 and body["shape"] == [28, 28]
    assert len(body["units"]) == 64
    spreads = [u["spread"] for u in body["units"]]
    assert spreads == sorted(spreads, reverse=True)
    assert spreads[-1] >= np.sort(network.weights[0].std(axis=0))[-64] - 1e-6
    for unit in body["units"][:5]:
        true = network.weights[0][:, unit["id"]].reshape(28, 28)
        assert np.abs(_weights(unit) - true).max() <= unit["scale"] / 127  # 8-bit steps
    chosen = client.get("/api/model/units?ids=3,0,3,511").json()["units"]
    assert [u["id"] for u in chosen] == [3, 0, 511]


def test_units_are_cached_per_model_version(client, tmp_path):
    first = client.get("/api/model/units?top=4")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get("/api/model/units?top=4", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    for header, status in (
        (f'"other", W/{etag}', 304),  # one of a list, weak or strong
        ("*", 304),  # any representation
        (etag + "x", 200),  # text that merely contains the tag
        (etag.strip('"'), 200),  # unquoted: not an entity tag
    ):
        r = client.get("/api/model/units?top=4", headers={"If-None-Match": header})
        assert r.status_code == status, header
    assert client.get("/api/model/units?top=5", headers={"If-None-Match": etag}).status_code == 200
    registry = Registry(tmp_path)
    version = registry.add(MLP([784, 64, 10], "sigmoid", seed=0), {})
    registry.activate(version)
    client.app.state.serving.refresh()
    after = client.get("/api/model/units?top=4", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert after.json()["version"] == version and after.json()["size"] == 64


@pytest.mark.parametrize(
    "query",
    [
        "layer=2",
        "layer=0",
        "ids=512",
        "ids=-1",
        "ids=a,b",
        "ids=,",
        "ids=²",
        "top=0",
        "top=5000",
        "ids=" + ",".join(["1"] * 600),
    ],
)
def test_bad_unit_queries_get_422(client, query):
    r = client.get(f"/api/model/units?{query}")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
