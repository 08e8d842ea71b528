"""MNIST as the four standard IDX files, written by hand: for the tests of the sources that read
them (a folder, a mirror) and of a job that fetches MNIST on a fresh data home."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from model import data


def idx_images(images: np.ndarray) -> bytes:
    return struct.pack(">IIII", 0x803, *images.shape) + images.tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 0x801, len(labels)) + labels.tobytes()


def write_idx_folder(folder: Path, mnist: data.Mnist) -> Path:
    """The four gzipped IDX files of `mnist` in `folder` (made if missing); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    contents = {
        "train_images": idx_images(mnist.train_x),
        "train_labels": idx_labels(mnist.train_y),
        "test_images": idx_images(mnist.test_x),
        "test_labels": idx_labels(mnist.test_y),
    }
    for key, raw in contents.items():
        (folder / f"{data.IDX_FILES[key][0]}.gz").write_bytes(gzip.compress(raw, compresslevel=1))
    return folder
