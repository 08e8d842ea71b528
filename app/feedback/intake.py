"""A feedback post → a stored sample.

The drawing is decoded once, within the same limits as a prediction, and two things are kept
from that one decoded image: its 28×28 in MNIST form (what training uses) and, when small, the
image itself re-encoded as a bare PNG. Re-encoding keeps the pixels and drops everything else a
file can carry (text chunks, EXIF, an ICC profile, bytes after the image), so nothing about the
person or their device is stored, whatever the upload held.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from app.feedback.store import FeedbackStore
from app.inputs import DrawingDecoder, decode_data_url, pixels_to_vector, prepare_image
from app.schemas import DrawingInput, FeedbackLabels
from app.schemas.feedback import stored_label

# An original whose upload is this many times over the size limit would not fit as a PNG
# either: it is not re-encoded at all.
REENCODE_FACTOR = 4


def save_feedback(
    store: FeedbackStore,
    decoder: DrawingDecoder,
    drawing: bytes | DrawingInput,
    labels: FeedbackLabels,
    max_original_bytes: int,
) -> int:
    """Store one labelled drawing (image bytes, or JSON with a data URL or pixels); its id."""
    if isinstance(drawing, DrawingInput) and drawing.image is None:
        vector, original = pixels_to_vector(drawing.pixels), None
    else:
        data = drawing if isinstance(drawing, bytes) else decode_data_url(drawing.image)
        image = decoder.image(data)
        vector = prepare_image(image).pixels
        small = len(data) <= REENCODE_FACTOR * max_original_bytes
        original = bare_png(image, max_original_bytes) if small else None
    pixels = np.round(vector * 255).astype(np.uint8).reshape(28, 28)
    label = stored_label(labels.label)
    return store.add(pixels, label, labels.predicted, labels.model_version, original)


def bare_png(image: Image.Image, limit: int) -> bytes | None:
    """The image's pixels as a PNG with no metadata, or None if that is over ``limit`` bytes."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if has_alpha else ("L" if image.mode in ("1", "L") else "RGB")
    bare = image.convert(mode)  # a new image; its info (text, EXIF, ICC) is cleared below
    bare.info = {}
    buffer = io.BytesIO()
    bare.save(buffer, "PNG")
    return buffer.getvalue() if buffer.tell() <= limit else None
