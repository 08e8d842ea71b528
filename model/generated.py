"""The generated part of a training split, kept on disk: synthetic digits, synthetic marks, and
the real marks drawn as the canvas draws them.

Making them is the slow part of starting a run: about 25 s for the shipped recipe (27,500 stroke
digits, 5,500 marks, 951 real marks drawn), before the first epoch can start, and again at
every retrain. They depend on nothing but the seed, the counts and the code and data
that make them, so the first run on a machine keeps them in the user's cache folder (beside
``model.trust``'s drawn digits) and later runs read them in a fraction of a second. The key is a
digest of all of that, the NumPy and Pillow versions included: whatever changes what would be
made makes a new file. Sets under ``MIN_CACHED`` images are made afresh (under about 3 s), and
only the ``KEEP`` most recently used files stay.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import PIL

from model import marks, pendigits, preprocess, real_marks, synth
from model.atomic import atomic_write
from model.trust import CACHE

MIN_CACHED = 5_000  # images
KEEP = 3  # files


@dataclass(frozen=True)
class Generated:
    """What ``made`` returns: uint8 images (n, 28, 28) of each kind, and the digits' labels."""

    digits: np.ndarray
    digit_labels: np.ndarray  # (n,) uint8, classes balanced
    marks: np.ndarray
    real_marks: np.ndarray


def made(seed: int, digits: int, marks_count: int, real: int, cache: Path = CACHE) -> Generated:
    """``digits`` synthetic digits, ``marks_count`` synthetic marks and ``real`` real marks, as
    ``model.synth``, ``model.marks`` and ``model.real_marks`` make them for ``seed``: from the
    cache folder when they are there, else made (and kept when they are many)."""
    if digits + marks_count + real < MIN_CACHED:
        return _make(seed, digits, marks_count, real)
    path = cache / f"generated-{_key(seed, digits, marks_count, real)[:16]}.npz"
    names = [f.name for f in fields(Generated)]
    try:
        with np.load(path) as stored:
            found = Generated(*(stored[name] for name in names))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        found = None  # not there yet, or unreadable: make it again
    if found is not None:
        with contextlib.suppress(OSError):  # a read-only cache still serves
            os.utime(path)  # recently used: kept
        return found
    result = _make(seed, digits, marks_count, real)
    buffer = io.BytesIO()
    np.savez(buffer, **{name: getattr(result, name) for name in names})
    try:
        atomic_write(path, lambda f: f.write(buffer.getvalue()))
        for stale in sorted(cache.glob("generated-*.npz"), key=_last_used)[:-KEEP]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass  # a cache that cannot be written only costs the next run the time to make them
    return result


def _last_used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed by another run meanwhile
        return 0.0


def _make(seed: int, digits: int, marks_count: int, real: int) -> Generated:
    """Make them: what the cache must give back, bit for bit."""
    digit_images, digit_labels = synth.synthetic_set(digits, seed)
    return Generated(
        digit_images, digit_labels, marks.marks(marks_count, seed), real_marks.sample(real, seed)
    )


def _key(*numbers: int) -> str:
    """A digest of everything the images depend on: the seed and counts, the library versions,
    this module, the modules that make and draw them, and the real marks' data."""
    digest = hashlib.sha256(repr((numbers, np.__version__, PIL.__version__)).encode())
    digest.update(Path(__file__).read_bytes())
    for module in (synth, marks, real_marks, pendigits, preprocess):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(real_marks.MARKS.read_bytes())
    return digest.hexdigest()
