"""The feedback export: an ``.npz`` that ``numpy.load`` opens, written and read within bounds.

Its members, one row per sample, oldest first:

    x                uint8 (n, 28, 28)   the drawing in MNIST form, ink = 255
    y                uint8 (n,)          the label, 0-9, or 10 for a drawing that is not a digit
    predicted        int8 (n,)           what the model said, -1 for nothing
    model_version    str (n,)            the version that said it, '' for none
    created          str (n,)            when it was posted, ISO 8601
    original_length  int32 (n,)          the bytes of its original image (a PNG), 0 for none
    original         uint8 (m,)          the original images, one after another (m bytes)

``write_export`` streams: rows come from one consistent read of the store a page at a time and
each member is written into the zip as it goes, so memory stays flat whatever the store holds
(building every row at once took 1.6 GB for 600,000 samples).

``read_export`` holds an import to the rules of a post: members other than these refused, labels
0-9, predictions 0-9 or -1, a model version no longer than a post may send, times in ISO 8601.
``bare_originals`` then decodes each original within a post's limits and keeps it as a post's
is kept (a bare PNG, if small enough). Anything else is 422 ``invalid_import``, before a row is
stored. An export from before the originals were carried (no ``original`` members) imports as it
always did, without them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO

import numpy as np

from app.errors import ApiError
from app.feedback.intake import REENCODE_FACTOR, bare_png
from app.feedback.store import (
    CREATED_MAX_LENGTH,
    MODEL_VERSION_MAX_LENGTH,
    MODEL_VERSION_TEXT,
    FeedbackStore,
)
from app.inputs import DrawingDecoder
from model.decode import DecodeLimits
from model.train import NOT_A_DIGIT

REQUIRED = ("x", "y")
PER_SAMPLE = ("predicted", "model_version", "created", "original_length")
OPTIONAL = (*PER_SAMPLE, "original")
# An export of this many samples is far more than any store holds; it bounds what an import may
# make the server decompress.
MAX_IMPORT_SAMPLES = 500_000
_MAX_BYTES_PER_SAMPLE = 784 + 2 + 4 + 4 * (MODEL_VERSION_MAX_LENGTH + CREATED_MAX_LENGTH)
# The originals are PNGs, which deflate little, unless the same one comes many times: unpacked,
# a true export's take at most a few times the file, or a few MB. More than this is a zip bomb,
# refused before it is unpacked.
_MAX_ORIGINALS_PER_FILE_BYTE = 4
_MAX_ORIGINALS_EXTRA_BYTES = 64_000_000
# All the originals of one import decode to at most this many pixels between them (10,000 canvas
# drawings are 0.8 billion): about 10 s of decoding and re-encoding, at most.
MAX_IMPORT_PIXELS = 2_000_000_000


# ---- writing ------------------------------------------------------------------------------------


def write_export(store: FeedbackStore, out: BinaryIO) -> int:
    """Write every sample to ``out`` as the ``.npz`` above; returns how many."""
    with store.snapshot() as snapshot, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        n = snapshot.count()

        def pages(column: str, size: int = 1000) -> Iterator[list]:
            return ([row[0] for row in rows] for rows in snapshot.rows(column, page=size))

        _write_npy(archive, "x", np.uint8, (n, 28, 28), (b"".join(p) for p in pages("pixels")))
        _write_npy(archive, "y", np.uint8, (n,), pages("label"))
        predicted = ([-1 if v is None else v for v in p] for p in pages("predicted"))
        _write_npy(archive, "predicted", np.int8, (n,), predicted)
        for name in ("model_version", "created"):
            text = f"<U{max(1, snapshot.longest(name))}"
            _write_npy(archive, name, text, (n,), ([v or "" for v in p] for p in pages(name)))
        lengths = ([v or 0 for v in p] for p in pages("LENGTH(original)"))
        _write_npy(archive, "original_length", np.int32, (n,), lengths)
        # (100 rows a page: an original may be 200 kB, where a 28×28 is 784 bytes)
        originals = (b"".join(v or b"" for v in p) for p in pages("original", 100))
        total = snapshot.total_length("original")
        _write_npy(archive, "original", np.uint8, (total,), originals)
    return n


def _write_npy(archive: zipfile.ZipFile, name: str, dtype, shape: tuple, pages) -> None:
    """One ``.npy`` member: its header, then each page of values (a list, or raw bytes) as it
    comes, so that no more than a page is ever in memory."""
    dtype = np.dtype(dtype)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    with archive.open(f"{name}.npy", "w", force_zip64=True) as f:
        np.lib.format.write_array_header_1_0(f, header)
        for page in pages:
            f.write(page if isinstance(page, bytes) else np.array(page, dtype).tobytes())


# ---- reading ------------------------------------------------------------------------------------


def _invalid(reason: str) -> ApiError:
    return ApiError(
        422,
        "invalid_import",
        f"not a feedback export: {reason}; send the .npz that GET /api/admin/feedback/export "
        "makes (x uint8 (n, 28, 28), y (n,) labels 0-9, or 10 for not a digit)",
        {"reason": reason},
    )


def read_export(data: bytes) -> dict[str, np.ndarray]:
    """An export's bytes → arrays for ``FeedbackStore.import_arrays``. Raises ApiError 422."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
    except (zipfile.BadZipFile, ValueError):
        raise _invalid("the body is not an .npz file") from None
    known = {f"{name}.npy" for name in (*REQUIRED, *OPTIONAL)}
    unknown = sorted(set(sizes) - known)
    if unknown:
        raise _invalid(f"it holds {unknown[0]!r}, which is none of {sorted(known)}")
    if any(f"{name}.npy" not in sizes for name in REQUIRED):
        raise _invalid("it has no 'x' and 'y' arrays")
    originals = sizes.pop("original.npy", 0)
    if sum(sizes.values()) > MAX_IMPORT_SAMPLES * _MAX_BYTES_PER_SAMPLE:
        raise _invalid(f"it holds more than {MAX_IMPORT_SAMPLES} samples")
    if originals > _MAX_ORIGINALS_PER_FILE_BYTE * len(data) + _MAX_ORIGINALS_EXTRA_BYTES:
        raise _invalid("its original images unpack to far more than the file holds")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except Exception as e:  # a damaged member, an object array, …
        raise _invalid(f"it could not be read ({type(e).__name__})") from None
    for name, value in arrays.items():
        if not isinstance(value, np.ndarray):  # numpy hands back a member that is not .npy raw
            raise _invalid(f"{name}.npy is not a NumPy array file")
    return _checked(arrays)


def _checked(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays, if every column holds what a post could have stored."""
    x, y = arrays["x"], arrays["y"]
    if x.dtype != np.uint8 or x.ndim not in (2, 3) or x.shape[1:] not in ((28, 28), (784,)):
        raise _invalid(f"x is {x.dtype} {x.shape}, not uint8 (n, 28, 28)")
    n = len(x)
    if y.shape != (n,) or y.dtype.kind not in "iu":
        raise _invalid(f"y is {y.dtype} {y.shape}, not {n} integers")
    if n and (y.min() < 0 or y.max() > NOT_A_DIGIT):
        raise _invalid(f"y holds values outside 0-9 (and {NOT_A_DIGIT} for not a digit)")
    for name in PER_SAMPLE:
        if name in arrays and arrays[name].shape != (n,):
            raise _invalid(f"{name} has shape {arrays[name].shape}, not ({n},)")
    _check_originals(arrays.get("original_length"), arrays.get("original"))
    predicted = arrays.get("predicted")
    if predicted is not None:
        if predicted.dtype.kind not in "iu":
            raise _invalid(f"predicted is {predicted.dtype}, not integers")
        if n and (predicted.min() < -1 or predicted.max() > 9):
            raise _invalid("predicted holds values outside 0-9 (or -1 for none)")
    text_limits = {"model_version": MODEL_VERSION_MAX_LENGTH, "created": CREATED_MAX_LENGTH}
    for name, longest in text_limits.items():
        column = arrays.get(name)
        if column is None:
            continue
        if column.dtype.kind != "U":
            raise _invalid(f"{name} is {column.dtype}, not strings")
        if n and int(np.char.str_len(column).max()) > longest:
            raise _invalid(f"{name} holds a value longer than {longest} characters")
    versions = arrays.get("model_version", ())
    if any(not MODEL_VERSION_TEXT.fullmatch(str(v)) for v in np.unique(versions)):
        raise _invalid("model_version holds a control character")
    for when in arrays.get("created", ()):
        if when and not _is_iso_time(str(when)):
            raise _invalid(f"created holds {str(when)!r}, not an ISO 8601 time")
    arrays["x"] = x.reshape(n, 28, 28)
    return arrays


def _check_originals(lengths: np.ndarray | None, originals: np.ndarray | None) -> None:
    """The two members of the original images agree: both or neither, and lengths that add up."""
    if lengths is None and originals is None:
        return
    if lengths is None or originals is None:
        raise _invalid("it has one of 'original' and 'original_length' without the other")
    if lengths.dtype.kind not in "iu":
        raise _invalid(f"original_length is {lengths.dtype}, not integers")
    if originals.dtype != np.uint8 or originals.ndim != 1:
        raise _invalid(f"original is {originals.dtype} {originals.shape}, not uint8 bytes (m,)")
    if len(lengths) and lengths.min() < 0:
        raise _invalid("original_length holds a negative length")
    if len(lengths) and lengths.max() > len(originals):  # (checked first: a sum could wrap)
        raise _invalid(f"original_length holds a length over original's {len(originals)} bytes")
    total = int(lengths.astype(np.int64).sum())
    if total != len(originals):
        raise _invalid(f"original_length adds up to {total}, not {len(originals)}")


def bare_originals(
    arrays: dict[str, np.ndarray], limits: DecodeLimits, max_bytes: int
) -> list[bytes | None] | None:
    """Take the original images out of ``read_export``'s arrays and keep each as a post keeps
    its own: not even decoded when over REENCODE_FACTOR × ``max_bytes``, else decoded within the
    limits of a drawing (``limits``; MAX_IMPORT_PIXELS between them all), re-encoded as a bare
    PNG, and left out when that is over ``max_bytes``. None for an export without them. Raises
    ApiError 422."""
    lengths, originals = arrays.pop("original_length", None), arrays.pop("original", None)
    if lengths is None:
        return None
    decoder = DrawingDecoder(limits, max_total_pixels=MAX_IMPORT_PIXELS)
    lengths = lengths.astype(np.int64)
    ends = np.cumsum(lengths)
    kept: list[bytes | None] = []
    for i, (end, length) in enumerate(zip(ends.tolist(), lengths.tolist(), strict=True)):
        if length == 0 or length > REENCODE_FACTOR * max_bytes:
            kept.append(None)
            continue
        try:
            image = decoder.image(originals[end - length : end].tobytes())
        except ApiError as e:
            if e.code == "batch_too_many_pixels":
                reason = f"its original images hold more than {MAX_IMPORT_PIXELS:,} pixels"
                raise _invalid(reason) from None
            raise _invalid(f"original {i} is not an image a drawing may be ({e.message})") from None
        kept.append(bare_png(image, max_bytes))
    return kept


def _is_iso_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
