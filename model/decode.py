"""Image bytes → a decoded Pillow image, with the decoder's work bounded before and during decoding.

A size check alone does not bound the work: a small file can ask a decoder for far more than its
pixels. A progressive JPEG made of thousands of tiny scans costs libjpeg a pass over every block
per scan (about 0.3 ms a scan at 2000×2000), so 300 kB kept a core busy for 9 s. The rules:

- **Format** from the first bytes: PNG, JPEG, WebP, GIF or BMP, nothing else.
- **Size** from the header, before a pixel is decoded: at most ``max_pixels``.
- **Structure**, counted by walking the container before decoding (``count_structure``): a JPEG
  has at most ``MAX_JPEG_SCANS`` scans (an encoder's progressive JPEG has about 10), and no
  format has more than ``MAX_SEGMENTS`` marker segments, chunks or blocks before its first
  image. Only the first frame of an animated GIF, PNG or WebP is decoded.
- **Time**: the decoder reads its input through a file object that checks this thread's CPU
  time at every read (Pillow reads in blocks of ``READ_BLOCK`` bytes); past ``cpu_seconds`` the
  decode stops. CPU time, not wall time, so a busy machine does not refuse honest images.
- **Orientation**: an EXIF Orientation is applied before anything else reads the pixels, as a
  phone photo is shown.

Every refusal is an ``ImageError`` whose ``code`` names the reason for the API.
"""

from __future__ import annotations

import contextlib
import io
import re
import struct
import time
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP")  # Pillow's names
ACCEPTED_FORMATS_TEXT = "PNG, JPEG, WebP, GIF or BMP"  # the same, as every message names them
DEFAULT_MAX_PIXELS = 4_000_000  # ≈ 2000×2000; a phone photo fits, a decompression bomb does not
DEFAULT_CPU_SECONDS = 1.0  # a 4-megapixel photo decodes in well under 0.1 s
MAX_JPEG_SCANS = 64
MAX_SEGMENTS = 4096  # a 20 MB PNG in 8 kB IDAT chunks has 2,500
READ_BLOCK = 16_384  # Pillow's default is 64 kB: a smaller block checks the clock more often
MAX_EXIF_BYTES = 65_535  # the most a JPEG's APP1 segment holds; larger EXIF blocks are ignored

# The first bytes of each accepted format, as Pillow itself recognises them.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)


class ImageError(ValueError):
    """The bytes are not an image this service accepts. ``code`` names the reason for API errors."""

    def __init__(self, message: str, code: str = "invalid_image"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class DecodeLimits:
    """The most one image may cost: pixels declared in its header, CPU seconds to decode it."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    cpu_seconds: float = DEFAULT_CPU_SECONDS


def sniff_format(data: bytes) -> str | None:
    """The accepted format these bytes start like ("PNG", …), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((name for sig, name in _SIGNATURES if data.startswith(sig)), None)


def decode_image(data: bytes, limits: DecodeLimits = DecodeLimits()) -> Image.Image:
    """Decode PNG, JPEG, WebP, GIF or BMP bytes within ``limits``; returns the upright image."""
    accepted = ACCEPTED_FORMATS_TEXT
    if not data:
        raise ImageError(f"the body is empty; send a {accepted} image", code="empty_body")
    kind = sniff_format(data)
    if kind is not None:
        check_structure(data, kind)
    source = _BudgetedReader(data, limits.cpu_seconds)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source, formats=ACCEPTED_FORMATS)
    except ImageError:
        raise
    except UnidentifiedImageError:
        if kind:  # it starts like an accepted format but Pillow cannot parse it
            raise ImageError(
                f"the image data is truncated or corrupt; send a whole {accepted} image"
            ) from None
        raise ImageError(
            f"not an image in an accepted format ({accepted})", code="unsupported_image_format"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        # Pillow's own guard (tens of millions of pixels) spoke before ours: say ours.
        declared = re.search(r"\((\d+) pixels\)", str(e))
        size = int(declared[1]) if declared else f"more than {limits.max_pixels}"
        raise ImageError(
            f"the image declares {size} pixels; at most {limits.max_pixels} are accepted",
            code="image_too_large",
        ) from None
    except (OSError, ValueError) as e:
        raise ImageError(
            f"the image could not be read{_why(e)}; send a whole {accepted} image"
        ) from None
    width, height = image.size
    if width * height > limits.max_pixels:
        raise ImageError(
            f"the image is {width}×{height} = {width * height} pixels; at most "
            f"{limits.max_pixels} are accepted",
            code="image_too_large",
        )
    image.decodermaxblock = READ_BLOCK
    try:
        image.load()
    except ImageError:
        raise
    except Exception as e:  # Pillow raises many types for truncated or corrupt data
        raise ImageError(
            f"the image data is truncated or corrupt{_why(e)}; send a whole {accepted} image"
        ) from None
    _apply_orientation(image)
    return image


def _why(e: Exception) -> str:
    """The decoder's own words, in brackets, for a developer to search ('' if it said none)."""
    return f" ({e})" if str(e) else ""


class _BudgetedReader(io.BytesIO):
    """The image's bytes, refusing to be read once this thread has spent ``cpu_seconds``."""

    def __init__(self, data: bytes, cpu_seconds: float):
        super().__init__(data)
        self.cpu_seconds = cpu_seconds
        self.deadline = time.thread_time() + cpu_seconds

    def read(self, size: int | None = -1) -> bytes:
        if time.thread_time() > self.deadline:
            raise ImageError(
                f"decoding the image took more than {self.cpu_seconds:g} s of CPU time, the "
                "limit; send a plainer image (a drawing needs no more than a few hundred "
                "pixels a side)",
                code="image_too_complex",
            )
        return super().read(size)


def _apply_orientation(image: Image.Image) -> None:
    """Turn the image upright as its EXIF Orientation says (in place), as viewers show it."""
    exif = image.info.get("exif")
    if exif and len(exif) <= MAX_EXIF_BYTES:
        # A damaged EXIF block leaves the pixels as they are: they are still good.
        with contextlib.suppress(Exception):
            ImageOps.exif_transpose(image, in_place=True)


# ---- counting the structure before decoding -----------------------------------------------------


def check_structure(data: bytes, kind: str) -> None:
    """Raise ImageError ``image_too_complex`` if the container asks for too much decoding work."""
    scans, segments = count_structure(data, kind)
    if scans > MAX_JPEG_SCANS:
        raise _too_complex(
            f"the JPEG has more than {MAX_JPEG_SCANS} scans (a progressive JPEG from an ordinary "
            "encoder has about 10)"
        )
    if segments > MAX_SEGMENTS:
        raise _too_complex(f"the {kind} has more than {MAX_SEGMENTS} segments, chunks or blocks")


def _too_complex(reason: str) -> ImageError:
    return ImageError(f"{reason}; send a plainer image", code="image_too_complex")


def count_structure(data: bytes, kind: str) -> tuple[int, int]:
    """(JPEG scans, segments) of an image's container, each counted up to one past its limit.

    A walk over headers only: at most MAX_SEGMENTS + 1 steps whatever the file, and truncated
    or malformed data simply ends the walk (decoding then reports it).
    """
    walker = {"JPEG": _jpeg, "PNG": _png, "GIF": _gif, "WEBP": _webp}.get(kind)
    return walker(data) if walker else (0, 0)


# In a JPEG's entropy-coded data, 0xFF is followed by 0x00 (a stuffed byte), a restart marker
# (D0-D7) or more 0xFF fill; anything else starts the next marker segment.
_NEXT_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # markers without a length field


def _jpeg(data: bytes) -> tuple[int, int]:
    scans = segments = 0
    i = 2  # after SOI
    while segments <= MAX_SEGMENTS and scans <= MAX_JPEG_SCANS and i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xD9:  # EOI
            break
        if marker in _STANDALONE:
            i += 2
            continue
        (length,) = struct.unpack_from(">H", data, i + 2)
        segments += 1
        i += 2 + length
        if marker == 0xDA:  # SOS: its entropy-coded data runs to the next marker
            scans += 1
            found = _NEXT_MARKER.search(data, i)
            if found is None:
                break
            i = found.start()
    return scans, segments


def _png(data: bytes) -> tuple[int, int]:
    chunks, i = 0, 8  # after the signature
    while chunks <= MAX_SEGMENTS and i + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, i)
        chunks += 1
        if kind == b"IEND":
            break
        i += 12 + length  # length, type, data, CRC
    return 0, chunks


def _gif(data: bytes) -> tuple[int, int]:
    """Extension blocks and their sub-blocks before the first image descriptor."""
    if len(data) < 13:
        return 0, 0
    flags = data[10]
    i = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)  # after the global colour table
    blocks = 0
    while blocks <= MAX_SEGMENTS and i < len(data):
        if data[i] != 0x21:  # an image descriptor (0x2C), the trailer or garbage: done
            break
        i += 2  # introducer and label
        blocks += 1
        while blocks <= MAX_SEGMENTS and i < len(data) and data[i] != 0:
            i += 1 + data[i]
            blocks += 1
        i += 1  # the terminating empty sub-block
    return 0, blocks


def _webp(data: bytes) -> tuple[int, int]:
    chunks, i = 0, 12  # after RIFF, size, WEBP
    while chunks <= MAX_SEGMENTS and i + 8 <= len(data):
        (size,) = struct.unpack_from("<I", data, i + 4)
        chunks += 1
        i += 8 + size + (size & 1)  # chunks are padded to an even length
    return 0, chunks
