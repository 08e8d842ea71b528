"""Property test: whatever image arrives, preprocessing returns MNIST form or says it is blank."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from model.preprocess import BlankImageError, to_mnist

MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "I", "F", "I;16"]


@st.composite
def images(draw) -> Image.Image:
    """Arbitrary sizes (1×1 up to 1×5000 strips), modes, alpha, and content."""
    shape = draw(st.sampled_from(["tiny", "strip", "tall", "square"]))
    if shape == "tiny":
        width, height = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    elif shape == "strip":
        width, height = draw(st.integers(1000, 5000)), draw(st.integers(1, 3))
    elif shape == "tall":
        width, height = draw(st.integers(1, 3)), draw(st.integers(1000, 5000))
    else:
        width = height = draw(st.integers(5, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    content = draw(st.sampled_from(["blank", "noise", "blob", "single"]))
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    background = rng.integers(0, 256, 4).astype(np.uint8)
    pixels[...] = background
    if content == "noise":
        pixels = rng.integers(0, 256, (height, width, 4)).astype(np.uint8)
    elif content == "blob":
        y0, x0 = rng.integers(0, height), rng.integers(0, width)
        pixels[y0 : y0 + max(1, height // 3), x0 : x0 + max(1, width // 3)] = 255 - background
    elif content == "single":
        pixels[rng.integers(0, height), rng.integers(0, width)] = 255 - background
    image = Image.fromarray(pixels, "RGBA")
    mode = draw(st.sampled_from(MODES))
    return image.convert(mode) if mode != "I;16" else image.convert("L").convert("I;16")


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(images())
def test_any_image_gives_mnist_form_or_the_blank_error(image):
    try:
        x = to_mnist(image)
    except BlankImageError:
        return
    assert x.shape == (784,) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1
    assert x.max() > 0, "a vector with no ink should have been the blank error"
