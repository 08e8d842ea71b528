"""Random distortions of whole batches of digits, so the network learns how people really draw.

Each image gets its own random affine map (rotation, scale, shear, shift), a smooth elastic
warp, and sometimes a thicker or thinner stroke. Everything is vectorised over the batch: one
bilinear resampling of (n, 28, 28) images through per-image coordinate grids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIDE = 28
_CENTRE = (SIDE - 1) / 2


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


def _sample_bilinear(images: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Read images (n, 28, 28) at float coordinates ys, xs (n, 28, 28); zero outside."""
    n = images.shape[0]
    padded = np.zeros((n, SIDE + 2, SIDE + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images
    ys = np.clip(ys + 1, 0, SIDE + 0.999)  # +1 for the padding; beyond the border reads zeros
    xs = np.clip(xs + 1, 0, SIDE + 0.999)
    y0, x0 = ys.astype(np.intp), xs.astype(np.intp)
    fy, fx = ys - y0, xs - x0
    flat = padded.reshape(n, -1)
    base = (np.arange(n) * (SIDE + 2) ** 2)[:, None, None] + y0 * (SIDE + 2) + x0
    flat = flat.reshape(-1)
    top = flat[base] * (1 - fx) + flat[base + 1] * fx
    bottom = flat[base + SIDE + 2] * (1 - fx) + flat[base + SIDE + 3] * fx
    return top * (1 - fy) + bottom * fy


def _change_thickness(images: np.ndarray, rng: np.random.Generator, probability: float) -> None:
    """Blend a random share of images (n, 28, 28) towards their 3×3-cross dilation or erosion."""
    n = images.shape[0]
    padded = np.zeros((n, SIDE + 2, SIDE + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images
    neighbours = (
        padded[:, :-2, 1:-1],
        padded[:, 2:, 1:-1],
        padded[:, 1:-1, :-2],
        padded[:, 1:-1, 2:],
    )
    dilated = np.maximum.reduce((images, *neighbours))
    eroded = np.minimum.reduce((images, *neighbours))
    choice = rng.random(n)
    # Erosion at 28 px is harsh on thin strokes, so it gets a gentler hand than dilation.
    strength = rng.uniform(0.3, 1.0, n).astype(np.float32)[:, None, None]
    thicker = choice < probability / 2
    thinner = (choice >= probability / 2) & (choice < probability)
    images[thicker] += strength[thicker] * (dilated[thicker] - images[thicker])
    images[thinner] += 0.6 * strength[thinner] * (eroded[thinner] - images[thinner])


CHUNK = 2048  # images per pass: keeps the (chunk, 28, 28) temporaries in cache


def distort(
    images: np.ndarray, rng: np.random.Generator, d: Distortion = Distortion()
) -> np.ndarray:
    """images (n, 28, 28) or (n, 784), uint8 or float in [0, 1] → distorted float32 (n, 784)."""
    images = np.asarray(images).reshape(-1, SIDE, SIDE)
    out = np.empty((images.shape[0], SIDE * SIDE), dtype=np.float32)
    for start in range(0, images.shape[0], CHUNK):
        out[start : start + CHUNK] = _distort_chunk(images[start : start + CHUNK], rng, d)
    return out


def _distort_chunk(images: np.ndarray, rng: np.random.Generator, d: Distortion) -> np.ndarray:
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / np.float32(255)
    n = images.shape[0]

    angle = np.deg2rad(rng.uniform(-d.rotate_degrees, d.rotate_degrees, n))
    scale = rng.uniform(*d.scale, n)
    aspect = rng.uniform(-d.aspect, d.aspect, n)
    sy, sx = scale * (1 + aspect), scale * (1 - aspect)
    shear = rng.uniform(-d.shear, d.shear, n)
    ty, tx = rng.uniform(-d.shift, d.shift, (2, n))

    # The inverse map: for each output pixel, where to read in the source image.
    angle, sy, sx, shear, ty, tx = (v.astype(np.float32) for v in (angle, sy, sx, shear, ty, tx))
    cos, sin = np.cos(angle), np.sin(angle)
    grid_y, grid_x = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) - np.float32(_CENTRE)
    oy = grid_y[None] - ty[:, None, None]
    ox = grid_x[None] - tx[:, None, None]
    ry = (cos[:, None, None] * oy - sin[:, None, None] * ox) / sy[:, None, None]
    rx = (sin[:, None, None] * oy + cos[:, None, None] * ox) / sx[:, None, None]
    rx = rx - shear[:, None, None] * ry

    up = _interpolation_matrix(d.elastic_grid).astype(np.float32)
    coarse = rng.uniform(-d.elastic, d.elastic, (2, n, d.elastic_grid, d.elastic_grid)).astype(
        np.float32
    )
    field = np.einsum("ik,cnkl,jl->cnij", up, coarse, up)
    out = _sample_bilinear(images, ry + _CENTRE + field[0], rx + _CENTRE + field[1])
    _change_thickness(out, rng, d.thickness_probability)
    return np.clip(out, 0, 1, out=out).reshape(n, SIDE * SIDE)
