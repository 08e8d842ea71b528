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
# The seven's strokes in pixels of that canvas: the top and the stem, then the crossbar some
# people draw.
SEVEN_STROKES = (((38, 30), (104, 30), (66, 116)), ((56, 72), (92, 72)))


def _draw_seven() -> Image.Image:
    image = Image.new("RGBA", (_SIZE, _SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    for stroke in SEVEN_STROKES:
        pen.line(stroke, fill=(17, 17, 17, 255), width=11, joint="curve")
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


# ---- /api/read: a number, 2026, as the page's Number mode sends it ------------------------------

_NUMBER_CANVAS = (350, 140)  # half the page's Number canvas keeps the example short


def _arc(cx, cy, rx, ry, start, end, steps=10) -> list[list[float]]:
    """Points along an ellipse arc; angles in degrees, 0 = right, 90 = down (y grows down)."""
    angles = np.deg2rad(np.linspace(start, end, steps))
    return [
        [round(float(cx + rx * np.cos(a)), 1), round(float(cy + ry * np.sin(a)), 1)] for a in angles
    ]


def _two(x: float) -> list[list[float]]:
    return _arc(x + 22, 48, 22, 20, 200, 370, 8) + [[x + 2, 110.0], [x + 46, 110.0]]


def _number_strokes() -> list[list[list[float]]]:
    """2, 0, 2, 6, about 80 px tall, each one stroke as most people write them."""
    two = _two
    zero = _arc(122, 70, 22, 40, -90, 270, 14)
    six = _arc(264, 88, 26, 64, 290, 180, 6) + _arc(258, 90, 20, 21, 180, 530, 12)[1:]
    return [two(40), zero, two(166), six]


NUMBER_STROKES = {
    "strokes": _number_strokes(),
    "width": _NUMBER_CANVAS[0],
    "height": _NUMBER_CANVAS[1],
}


def _draw_number() -> Image.Image:
    image = Image.new("RGBA", _NUMBER_CANVAS, (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    for stroke in NUMBER_STROKES["strokes"]:
        pen.line([tuple(p) for p in stroke], fill=(17, 17, 17, 255), width=10, joint="curve")
    return image


NUMBER_DATA_URL = _data_url(_draw_number())

READ_EXAMPLES = {
    "strokes": {
        "summary": "Pen strokes, as the page's Number mode sends them",
        "description": "Each stroke a list of [x, y] points in pixels of a `width` × `height` "
        "canvas, in drawing order; `brush` (optional) is the pen's width.",
        "value": NUMBER_STROKES,
    },
    "image": {
        "summary": "A canvas drawing as a data URL",
        "description": "What `canvas.toDataURL('image/png')` returns; the digits are found in its "
        "ink (where two digits touch, the ink is cut where the network reads both best).",
        "value": {"image": NUMBER_DATA_URL},
    },
}


def number_example(predictor) -> dict | None:
    """A real /api/read answer for the strokes above from the served model (an
    ``app.predictor.Predictor``), or None while no model is loaded."""
    if predictor.server.model is None:
        return None
    from app.schemas import ReadInput  # app.schemas imports this module: import it late

    reading = predictor.read_number(ReadInput.model_validate(NUMBER_STROKES))
    return reading.model_dump(exclude_none=True)
