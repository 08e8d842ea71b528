"""Any drawing → MNIST form: alpha, polarity, cropping, 20 px box, centre of mass."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from model.preprocess import BlankImageError, ImageError, normalise_ink, pixels_to_mnist, to_mnist


def canvas_with_line(
    mode="RGBA",
    background=(0, 0, 0, 0),
    ink=(0, 0, 0, 255),
    size=(280, 280),
    box=(60, 100, 90, 230),
    width=20,
):
    image = Image.new(mode, size, background)
    ImageDraw.Draw(image).line(box, fill=ink, width=width)
    return image


def ink_box(x: np.ndarray) -> tuple[int, int]:
    img = x.reshape(28, 28)
    rows = np.flatnonzero(img.max(axis=1) > 0.1)
    cols = np.flatnonzero(img.max(axis=0) > 0.1)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre_of_mass(x: np.ndarray) -> tuple[float, float]:
    img = x.reshape(28, 28)
    ys, xs = np.indices(img.shape)
    return (ys * img).sum() / img.sum(), (xs * img).sum() / img.sum()


@pytest.mark.parametrize(
    ("mode", "background", "ink"),
    [
        ("RGBA", (0, 0, 0, 0), (0, 0, 0, 255)),  # a browser canvas: black on transparent
        ("RGBA", (255, 255, 255, 0), (20, 40, 200, 255)),  # coloured ink on transparent white
        ("RGB", (255, 255, 255), (0, 0, 0)),  # dark on light
        ("RGB", (0, 0, 0), (255, 255, 255)),  # light on dark
        ("L", 230, 30),
        ("RGB", (250, 220, 120), (90, 30, 10)),  # coloured paper
    ],
)
def test_every_polarity_and_alpha_gives_the_same_mnist_form(mode, background, ink):
    x = to_mnist(canvas_with_line(mode, background, ink))
    assert x.shape == (784,) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() == pytest.approx(1.0)
    assert x.reshape(28, 28)[0].max() == 0, "the border is background"
    reference = to_mnist(canvas_with_line())
    assert np.abs(x - reference).max() < 0.1


def test_the_longer_side_becomes_20_pixels_and_the_mass_is_centred():
    x = to_mnist(canvas_with_line(box=(30, 20, 50, 260), width=16))  # tall and off-centre
    h, w = ink_box(x)
    assert h == 20 and w < 8
    cy, cx = centre_of_mass(x)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # where MNIST has its centre of mass


def test_a_wide_digit_keeps_its_aspect_ratio():
    x = to_mnist(canvas_with_line(box=(20, 140, 260, 150), width=20))
    h, w = ink_box(x)
    assert w == 20 and h <= 5


def test_a_tiny_drawing_is_scaled_up():
    image = Image.new("L", (100, 100), 255)
    ImageDraw.Draw(image).ellipse((48, 48, 53, 55), outline=0)
    h, w = ink_box(to_mnist(image))
    assert max(h, w) == 20


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGBA", (280, 280), (0, 0, 0, 0)),
        Image.new("RGB", (50, 50), (255, 255, 255)),
        Image.new("L", (1, 1), 0),
    ],
)
def test_no_ink_is_reported_not_guessed(image):
    with pytest.raises(BlankImageError):
        to_mnist(image)


def png(image: Image.Image, fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_pixels_are_used_as_they_are_after_checks():
    pixels = np.zeros((28, 28))
    pixels[5:20, 13] = 1
    assert np.array_equal(pixels_to_mnist(pixels), pixels.reshape(784).astype(np.float32))
    assert pixels_to_mnist(pixels.reshape(784).tolist()).shape == (784,)
    for bad in (np.zeros(783), np.full(784, 2.0), np.full(784, np.nan), np.zeros((27, 29))):
        with pytest.raises(ImageError):
            pixels_to_mnist(bad)
    with pytest.raises(BlankImageError):
        pixels_to_mnist(np.zeros(784))


def _whole_image_ink(image: Image.Image) -> np.ndarray:
    """The ink map computed over every pixel of the image, as ink_map did before it learnt to
    crop a canvas to its drawn pixels first: the reference the fast path must match."""
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    alpha = rgba[..., 3]
    if alpha.min() < 1.0:
        drawn = alpha > 0
        dark = drawn.any() and np.average(luminance[drawn], weights=alpha[drawn]) < 0.5
        background = 1.0 if dark else 0.0
        luminance = luminance * alpha + background * (1.0 - alpha)
    border = np.concatenate([luminance[0], luminance[-1], luminance[:, 0], luminance[:, -1]])
    level = float(np.median(border))
    if level > 0.5:
        return np.clip((level - luminance) / max(level, 1e-6), 0.0, 1.0)
    return np.clip((luminance - level) / max(1.0 - level, 1e-6), 0.0, 1.0)


@pytest.mark.parametrize("seed", range(8))
def test_a_canvas_cropped_to_its_ink_first_gives_the_same_28x28(seed):
    rng = np.random.default_rng(seed)
    ink = tuple(int(v) for v in rng.integers(0, 256, 3)) + (255,)
    left, top = (int(v) for v in rng.integers(5, 120, 2))
    box = (left, top, left + int(rng.integers(20, 150)), top + int(rng.integers(20, 150)))
    image = canvas_with_line(ink=ink, box=box, width=int(rng.integers(3, 25)))
    assert np.array_equal(to_mnist(image), normalise_ink(_whole_image_ink(image)))
    touching = canvas_with_line(ink=ink, box=(0, top, 279, top + 40), width=12)  # at the edge
    assert np.array_equal(to_mnist(touching), normalise_ink(_whole_image_ink(touching)))


def test_ink_of_any_float_type_gives_the_same_mnist_form():
    ink = np.zeros((50, 40))  # float64, as a caller's own NumPy code makes it
    ink[10:40, 15:20] = 1.0
    ink[12:14, 20:30] = 0.6
    reference = normalise_ink(ink.astype(np.float32))
    assert reference.dtype == np.float32 and reference.max() == 1.0
    assert np.array_equal(normalise_ink(ink), reference)
