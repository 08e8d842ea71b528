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


def test_numbers_are_one_writers_digits_left_to_right_inside_the_canvas():
    from model import pen_numbers

    digits = pendigits.load()
    width, height = pen_numbers.NUMBER_CANVAS
    composed = pen_numbers.numbers(digits, 60, seed=2)
    by_id = {(d.writer, d.label) for d in digits}
    for number in composed:
        assert 2 <= len(number.text) <= 6 and len(number.boxes) == len(number.text)
        assert all((number.writer, int(c)) in by_id for c in number.text)
        for x0, y0, x1, y1 in number.boxes:
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
        lefts = [box[0] for box in number.boxes]
        assert lefts == sorted(lefts)
        assert number.strokes == [s for d in number.digits for s in d]
    # the same seed, the same numbers; only the writers asked for
    again = pen_numbers.numbers(digits, 60, seed=2)
    assert [n.text for n in again] == [n.text for n in composed]
    some = pen_numbers.numbers(digits, 20, seed=3, writers=["pendigits-train-w05"])
    assert {n.writer for n in some} == {"pendigits-train-w05"}
