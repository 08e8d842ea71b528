"""Images and payloads for the service tests, built in memory."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
from PIL import Image

from app.examples import SEVEN_DATA_URL, SEVEN_ROWS

SEVEN_PNG = base64.b64decode(SEVEN_DATA_URL.split(",", 1)[1])  # a canvas drawing of a 7
SEVEN_PIXELS = SEVEN_ROWS  # the same 7 in MNIST form, 28 rows of 28


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    if fmt in ("JPEG", "BMP") and image.mode == "RGBA":
        # No alpha in these formats: flatten onto white, as a photo or a scan would be.
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def seven_image() -> Image.Image:
    return Image.open(io.BytesIO(SEVEN_PNG)).convert("RGBA")


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def mnist_as_photo(
    digit: np.ndarray,
    *,
    size: int = 200,
    canvas: tuple[int, int] = (340, 280),
    offset: tuple[int, int] = (110, 20),
    background: tuple[int, int, int] = (24, 40, 96),
    ink: tuple[int, int, int] = (250, 230, 120),
) -> Image.Image:
    """An MNIST digit (28, 28) uint8 scaled to size × size and placed at offset on a coloured
    canvas: ink colour where the digit is bright, background elsewhere, blended in between."""
    big = Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC)
    alpha = np.zeros((canvas[1], canvas[0]), dtype=np.float32)
    x, y = offset
    alpha[y : y + size, x : x + size] = np.asarray(big, dtype=np.float32) / 255.0
    alpha = alpha[..., None]
    rgb = np.asarray(background) * (1 - alpha) + np.asarray(ink) * alpha
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), mode="RGB")
