"""Example requests for /docs, all made from one drawing of a 7.

The drawing is what a browser canvas produces (dark strokes on a transparent background, as a
PNG data URL); the pixel examples are that drawing after MNIST preprocessing, so every example
is a real request that the service answers with a 7.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

from model.explain import explain
from model.preprocess import to_mnist

_SIZE = 140  # a small canvas keeps the example short


def _draw_seven() -> Image.Image:
    image = Image.new("RGBA", (_SIZE, _SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    stroke = dict(fill=(17, 17, 17, 255), width=11, joint="curve")
    pen.line([(38, 30), (104, 30), (66, 116)], **stroke)
    pen.line([(56, 72), (92, 72)], **stroke)  # the crossbar some people draw
    return image


def _data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_SEVEN = _draw_seven()
SEVEN_DATA_URL = _data_url(_SEVEN)
# (28, 28) rows, 2 decimals: what the network sees for the drawing above.
SEVEN_ROWS = [[round(float(v), 2) for v in row] for row in to_mnist(_SEVEN).reshape(28, 28)]
SEVEN_FLAT = [v for row in SEVEN_ROWS for v in row]

PREDICT_JSON_EXAMPLES = {
    "image": {
        "summary": "A canvas drawing as a data URL",
        "description": "What `canvas.toDataURL('image/png')` returns. PNG, JPEG, WebP, GIF and "
        "BMP data URLs are accepted; the image is brought to MNIST form first.",
        "value": {"image": SEVEN_DATA_URL},
    },
    "pixels_rows": {
        "summary": "MNIST-form pixels, 28 rows of 28",
        "description": "Already preprocessed: values in [0, 1], ink = 1, used as they are.",
        "value": {"pixels": SEVEN_ROWS},
    },
    "pixels_flat": {
        "summary": "MNIST-form pixels, 784 numbers",
        "description": "The same 28×28 image flattened row by row.",
        "value": {"pixels": SEVEN_FLAT},
    },
}

BATCH_EXAMPLE = {"items": [{"pixels": SEVEN_ROWS}, {"image": SEVEN_DATA_URL}]}


def explanation_example(predictor) -> dict | None:
    """A real /api/explain answer for the seven above from the served model (an
    ``app.predictor.Predictor``), or None while no model is loaded."""
    model = predictor.server.model
    if model is None:
        return None
    x = np.asarray(SEVEN_FLAT, dtype=np.float32)
    return predictor.explanation(explain(model.network, x), model, x).model_dump()
