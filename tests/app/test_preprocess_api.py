"""MNIST-style preprocessing through the API: a digit photographed large, off-centre and in
colour is read as well as the original 28×28 MNIST digit."""

from __future__ import annotations

import numpy as np
import pytest
from drawings import data_url, encode, mnist_as_photo

N = 300
COLOURS = {
    "light on dark": {"background": (24, 40, 96), "ink": (250, 230, 120)},
    "dark on light": {"background": (236, 226, 200), "ink": (40, 30, 70)},
}


@pytest.fixture(scope="module")
def sample(mnist):
    return mnist.test_x[:N], mnist.test_y[:N]


def accuracy(client, items, labels) -> float:
    r = client.post("/api/predict/batch", json={"items": items})
    assert r.status_code == 200, r.text
    return float(np.mean([p["digit"] for p in r.json()["predictions"]] == labels))


@pytest.mark.parametrize("colours", COLOURS.values(), ids=COLOURS.keys())
def test_scaled_moved_coloured_digits_are_read_as_well_as_the_originals(client, sample, colours):
    images, labels = sample
    original = accuracy(client, [{"pixels": (x / 255).tolist()} for x in images], labels)

    rng = np.random.default_rng(0)
    photos = []
    for x in images:
        # 200×200 on a 340×280 canvas, anywhere from hard left to hard right, top to bottom.
        offset = (int(rng.integers(0, 141)), int(rng.integers(0, 81)))
        photos.append(encode(mnist_as_photo(x, size=200, offset=offset, **colours)))
    transformed = accuracy(client, [{"image": data_url(p)} for p in photos], labels)

    assert original > 0.9  # the comparison means something only for a working model
    assert transformed >= original - 0.01, (original, transformed)


def test_an_uploaded_photo_is_read_like_its_data_url(client, sample):
    images, _ = sample
    png = encode(mnist_as_photo(images[0], **COLOURS["dark on light"]))
    upload = client.post("/api/predict", files={"file": ("digit.png", png)}).json()
    inline = client.post("/api/predict", json={"image": data_url(png)}).json()
    assert upload == inline
