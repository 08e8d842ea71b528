"""The drawn digits in MNIST form: exactly what the server makes of the canvas's PNG."""

import numpy as np
import pytest

from model import pendigits
from model.decode import decode_image
from model.preprocess import to_mnist

pytestmark = pytest.mark.skipif(
    not pendigits.PEN_DIGITS.exists(), reason=f"{pendigits.PEN_DIGITS} is not available"
)


def test_mnist_form_is_what_the_server_makes_of_the_rendered_canvas():
    form = pendigits.mnist_form(seed=3, limit=12)
    assert form.x.shape == (12, 784) and form.x.dtype == np.float32
    digits = pendigits.load()
    chosen = sorted(np.random.default_rng(3).permutation(len(digits))[:12].tolist())
    for row, index in enumerate(chosen):
        rng = np.random.default_rng([3, index])
        image = pendigits.render(pendigits.to_canvas(digits[index], *pendigits.placement(rng)))
        served = to_mnist(decode_image(pendigits.png_bytes(image)))  # as POST /api/predict does
        assert np.array_equal(form.x[row], served)
        assert form.labels[row] == digits[index].label
        assert form.writers[row] == digits[index].writer


def test_mnist_form_is_the_same_split_over_processes_and_is_kept():
    one = pendigits.mnist_form(seed=5, limit=40)
    pendigits._cache.clear()
    two = pendigits.mnist_form(seed=5, limit=40, processes=2)
    assert np.array_equal(one.x, two.x) and np.array_equal(one.labels, two.labels)
    assert pendigits.mnist_form(seed=5, limit=40) is two
