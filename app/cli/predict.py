"""`digits predict`: the digit (or the verdict) and the ten probabilities for image files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from app.cli.common import MODEL_HELP, add_command, load


def add_parser(sub) -> None:
    p = add_command(
        sub,
        "predict",
        "read the digit in image files",
        "Read the digit in each image file (PNG, JPEG, WebP, GIF or BMP; any size, dark on "
        "light or light on dark), as the web app does: the digit, 'unsure' or 'not a digit', "
        "and the ten probabilities.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="the images to read")
    p.add_argument("--model", help=MODEL_HELP)
    p.set_defaults(run=run)


def run(args) -> int:
    from app.config import get_settings
    from model.decode import ImageError, decode_image
    from model.preprocess import prepare
    from model.verdict import Calibration, read

    loaded = load(args.model)
    calibration, unsure = Calibration.of(loaded.meta), get_settings().unsure_threshold
    status = 0
    for name in args.files:
        try:
            drawing = prepare(decode_image(Path(name).read_bytes()))
        except (OSError, ImageError) as e:
            print(f"{name}: error: {e}", file=sys.stderr)
            status = 1
            continue
        scores = loaded.network.layer_outputs(drawing.pixels[None], output="scores")[-1]
        reading = read(scores, np.array([drawing.extent]), calibration, unsure)
        probabilities = reading.probabilities[0]
        listing = " ".join(f"{d}:{p:.3f}" for d, p in enumerate(probabilities))
        verdict = reading.verdicts[0]
        said = "" if verdict == "digit" else f" {verdict.replace('_', ' ')}"
        print(f"{name}: {int(np.argmax(probabilities))}{said}  ({listing})")
    return status
