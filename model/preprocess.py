"""Any image of a digit → the MNIST form the network was trained on.

MNIST digits were size-normalised to fit a 20×20 box (aspect ratio kept, anti-aliased), then
centred by centre of mass in a 28×28 field, ink bright on a dark background. ``to_mnist`` brings
any drawing to exactly that form; serving, the CLI and the feedback store all call it. (Turning
bytes into an image, within limits, is ``model.decode``.)

Output convention everywhere: float32, shape (784,), values in [0, 1], 1 = ink.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from model.decode import ImageError

FIELD = 28  # the output is FIELD × FIELD
BOX = 20  # the digit's longer side, as in MNIST
INK_THRESHOLD = 0.1  # ink below this (after normalising) counts as background noise
MIN_CONTRAST = 0.08  # an image whose ink is fainter than this has no digit in it


class BlankImageError(ImageError):
    """The image holds no ink at all, so there is nothing to recognise."""

    def __init__(self, message: str = "the image is blank: no ink was found"):
        super().__init__(message, code="blank_image")


def ink_map(image: Image.Image) -> np.ndarray:
    """An image → ink intensity float32 in [0, 1], whatever its mode, alpha or polarity, over a
    box that holds all of the ink (outside it there is none). ``ink_region`` also says where."""
    return ink_region(image)[0]


def ink_region(image: Image.Image) -> tuple[np.ndarray, tuple[int, int]]:
    """An image → (ink (h, w) float32 in [0, 1], the (left, top) of that box in the image).

    Transparent pixels are background: a browser canvas is transparent where nothing was drawn.
    Whether ink is dark-on-light or light-on-dark is read from the border, where a digit is not.
    For a canvas (a transparent border around what was drawn) the box is the drawn pixels' box,
    found by Pillow on the alpha channel, and only it is converted to float: the same numbers as
    for the whole image, at a fraction of the work (a 280×280 canvas is mostly empty).
    """
    image = image if image.mode == "RGBA" else image.convert("RGBA")
    drawn_box = image.getbbox(alpha_only=True)  # (left, top, right, bottom) of alpha > 0, in C
    if drawn_box is None:
        return np.zeros((1, 1), dtype=np.float32), (0, 0)  # nothing drawn at all
    left, top, right, bottom = drawn_box
    transparent_border = left > 0 and top > 0 and right < image.width and bottom < image.height
    if transparent_border:
        image = image.crop(drawn_box)
    else:
        left = top = 0
    # Pillow's "F" conversion weighs R, G and B by ITU-R 601 (0.299, 0.587, 0.114) in float32.
    luminance = np.asarray(image.convert("F")) * np.float32(1 / 255)
    alpha = np.asarray(image.getchannel("A")) * np.float32(1 / 255)
    if transparent_border:
        # Every border pixel composites onto the background that contrasts with the drawn
        # pixels, so the ink is how far each pixel composites from it: alpha · (1 − luminance)
        # for dark ink on white, alpha · luminance for light ink on black.
        ink = 1.0 - luminance if _ink_is_dark(luminance, alpha) else luminance
        ink *= alpha
        return np.clip(ink, 0.0, 1.0, out=ink), (left, top)
    if alpha.min() < 1.0:
        # Composite onto the background that contrasts with the drawn pixels.
        background = 1.0 if _ink_is_dark(luminance, alpha) else 0.0
        luminance = luminance * alpha + background * (1.0 - alpha)
    border = np.concatenate([luminance[0], luminance[-1], luminance[:, 0], luminance[:, -1]])
    background_level = float(np.median(border))
    if background_level > 0.5:
        ink = (background_level - luminance) / max(background_level, 1e-6)
    else:
        ink = (luminance - background_level) / max(1.0 - background_level, 1e-6)
    return np.clip(ink, 0.0, 1.0, out=ink), (left, top)


def _ink_is_dark(luminance: np.ndarray, alpha: np.ndarray) -> bool:
    """Whether the drawn pixels (h, w) are dark on average, each weighed by its alpha (h, w)."""
    drawn = float(alpha.sum())
    return drawn > 0 and float(luminance.ravel() @ alpha.ravel()) < 0.5 * drawn


def normalise_ink(ink: np.ndarray) -> np.ndarray:
    """Ink (h, w) in [0, 1], any size → float32 (784,) in MNIST form.

    Crop to the ink, scale the longer side to 20 px (aspect kept, area-averaged), then shift so
    the centre of mass sits at the centre of the 28×28 field. Raises BlankImageError if no ink.
    """
    return _normalise(ink)[0]


def _normalise(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """normalise_ink, and the (h, w) of the ink's box in ink's own pixels."""
    peak = float(ink.max()) if ink.size else 0.0
    if peak < MIN_CONTRAST:
        raise BlankImageError()
    ink = np.asarray(ink, dtype=np.float32) / np.float32(peak)  # float32: what Pillow's F reads
    inked = ink >= INK_THRESHOLD
    rows = np.flatnonzero(inked.any(axis=1))
    cols = np.flatnonzero(inked.any(axis=0))
    box = np.s_[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    crop = ink[box]
    crop *= inked[box]  # faint specks below the threshold are not ink

    h, w = crop.shape
    scale = BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    # BOX (area averaging) anti-aliases a downscale as MNIST's normalisation did; BILINEAR
    # suits the rare upscale of a tiny drawing.
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(crop, mode="F").resize((new_w, new_h), resample))
    small = np.clip(small, 0.0, 1.0)
    if small.max() > 0:
        small /= small.max()  # a thin line averaged down still reads as full-strength ink

    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    top, left = (FIELD - new_h) // 2, (FIELD - new_w) // 2
    field[top : top + new_h, left : left + new_w] = small
    return _centre_by_mass(field, top, left, new_h, new_w).reshape(FIELD * FIELD), (h, w)


_ROWS, _COLUMNS = np.indices((FIELD, FIELD))  # each pixel's row and column


def _centre_by_mass(field: np.ndarray, top: int, left: int, h: int, w: int) -> np.ndarray:
    """Shift field (28, 28) by whole pixels so its centre of mass is where MNIST has it, (14, 14),
    as far as the digit's box (top, left, h, w) can move without leaving the field.

    The sums are taken exactly so (float32 mass, over the whole field): the synthetic training
    digits are centred by this function too, and a centre of mass that falls on a half pixel
    rounds the other way under another order of summation, so the shipped model would no longer
    be reproducible from its seed."""
    mass = field.sum()
    cy, cx = (_ROWS * field).sum() / mass, (_COLUMNS * field).sum() / mass
    dy = int(np.clip(round(FIELD / 2 - cy), -top, FIELD - (top + h)))
    dx = int(np.clip(round(FIELD / 2 - cx), -left, FIELD - (left + w)))
    return np.roll(field, (dy, dx), axis=(0, 1))


@dataclass(frozen=True)
class Prepared:
    """A drawing in MNIST form, and how large its ink was on the image it came in."""

    pixels: np.ndarray  # float32 (784,) in [0, 1], ink = 1
    extent: float  # the ink's longer side ÷ the image's longer side, as drawn


def prepare(image: Image.Image) -> Prepared:
    """A decoded image of one digit → its MNIST form and its ink's extent (BlankImageError)."""
    pixels, (h, w) = _normalise(ink_map(image))
    return Prepared(pixels, max(h, w) / max(image.size))


def to_mnist(image: Image.Image) -> np.ndarray:
    """A decoded image of one digit → float32 (784,) in [0, 1], ink = 1 (raises BlankImageError)."""
    return prepare(image).pixels


def pixels_to_mnist(pixels: np.ndarray) -> np.ndarray:
    """Pixels that are already MNIST form, (784,) or (28, 28) in [0, 1] → float32 (784,).

    They are used as they are; only the shape and range are checked.
    """
    try:
        x = np.asarray(pixels, dtype=np.float32)
    except (ValueError, TypeError):
        raise ImageError(
            "pixels must be 784 numbers or 28 rows of 28 numbers", code="bad_pixels"
        ) from None
    if x.size != FIELD * FIELD or x.shape not in ((FIELD * FIELD,), (FIELD, FIELD)):
        raise ImageError(
            f"pixels must be 784 numbers or 28 rows of 28, got shape {x.shape}", code="bad_pixels"
        )
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise ImageError("pixels must be finite numbers in [0, 1], ink = 1", code="bad_pixels")
    if x.max() < MIN_CONTRAST:
        raise BlankImageError("the pixels are blank: no ink was found")
    return x.reshape(FIELD * FIELD)
