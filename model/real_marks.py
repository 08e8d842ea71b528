"""Real pen marks that are not digits: letters and symbols people wrote, for the eleventh output.

The synthetic marks (``model.marks``) come from a few stroke templates each; real hands write
the same letters in shapes no template has, and on held-out writers the network trained on
templates alone called 90 % of real marks "not a digit". With these marks joining the training
split it calls 94–96 % of them so (the README's "Answers you can trust" has the figures).

``MARKS`` holds the marks of the calibration's fit writers (``model.trust.fit_writers``: two
thirds of each institution's writers in ``../shared/pen-marks``), copied into the repository so
that the shipped model is reproducible from it alone. The other third never trains anything:
``model.trust`` measures on them. ``build`` made the copy; ``model/unipen/README.md`` says where
the marks come from and how they may be used.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from model import pendigits

MARKS = Path(__file__).with_name("unipen") / "marks.json.gz"


def sample(n: int, seed: int, path: Path = MARKS) -> np.ndarray:
    """n marks → uint8 images (n, 28, 28): every mark as many whole times as n allows, and a
    seeded choice of them for the rest (the choice ``pendigits.mnist_form`` makes). Each is
    drawn on the canvas at a seeded size and place, as the page would draw it, and brought to
    MNIST form by the server's own preprocessing: about 3 ms a mark, so only the marks a run
    uses are drawn, and a process keeps what it drew (``pendigits.mnist_form``). In this
    process: a forked helper could inherit a lock held by another thread of a training job and
    wait for ever."""
    total = len(pendigits.load(path))
    whole, rest = divmod(n, total)
    parts = [pendigits.mnist_form(seed=seed, path=path).x] * whole
    if rest:
        parts.append(pendigits.mnist_form(seed=seed, limit=rest, path=path).x)
    x = np.concatenate(parts) if parts else np.empty((0, 784), dtype=np.float32)
    return np.round(x * 255).astype(np.uint8).reshape(n, 28, 28)


def build(out: Path = MARKS) -> int:
    """Copy the fit writers' marks from ../shared/pen-marks to ``out``; returns how many."""
    from model.trust import fit_writers

    with gzip.open(pendigits.PEN_MARKS, "rt") as f:
        marks = json.load(f)
    digit_writers = [d.writer for d in pendigits.load(pendigits.PEN_DIGITS)]
    fitting = fit_writers(digit_writers, [m["writer"] for m in marks])
    kept = [m for m in marks if m["writer"] in fitting]
    # mtime=0: the same marks always make the same bytes.
    with gzip.GzipFile(out, "wb", mtime=0) as f:
        f.write(json.dumps(kept, separators=(",", ":")).encode())
    return len(kept)


if __name__ == "__main__":
    print(f"{build()} marks written to {MARKS}")
