"""Bytes → image within bounds: format, declared size, container structure, CPU time, EXIF."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from hostile_images import (
    encode,
    gif_with_extensions,
    jpeg_scan_bomb,
    jpeg_with_markers,
    png_with_chunks,
    rle4_bmp,
    webp_with_chunks,
    with_orientation,
)
from PIL import Image, ImageDraw

from model.decode import (
    MAX_JPEG_SCANS,
    MAX_SEGMENTS,
    DecodeLimits,
    ImageError,
    count_structure,
    decode_image,
)


def canvas() -> Image.Image:
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(image).line((60, 100, 90, 230), fill=(0, 0, 0, 255), width=20)
    return image


def test_decode_image_checks_format_size_and_truncation():
    good = encode(canvas(), "PNG")
    assert decode_image(good).size == (280, 280)
    with pytest.raises(ImageError, match="not an image"):
        decode_image(b"hello, world")
    with pytest.raises(ImageError) as truncated:
        decode_image(good[: len(good) // 2])
    assert truncated.value.code == "invalid_image"
    with pytest.raises(ImageError, match="not an image in an accepted format"):
        decode_image(encode(canvas().convert("RGB"), "TIFF"))
    with pytest.raises(ImageError) as too_big:
        decode_image(good, DecodeLimits(max_pixels=1000))
    assert too_big.value.code == "image_too_large"


def png_header(width: int, height: int) -> bytes:
    """A PNG that is only its header: IHDR (8-bit RGBA) and IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [3000, 10_000, 20_000])
def test_a_huge_declared_size_is_refused_with_the_services_own_limit(side):
    """Past Pillow's own guard (89 million pixels) its message named its limit, not ours."""
    with pytest.raises(ImageError) as too_big:
        decode_image(png_header(side, side), DecodeLimits(max_pixels=4_000_000))
    assert too_big.value.code == "image_too_large"
    assert f"{side * side}" in str(too_big.value)
    assert "at most 4000000" in str(too_big.value) and "89478485" not in str(too_big.value)


def test_errors_for_broken_images_say_what_is_accepted():
    good = encode(canvas(), "PNG")
    for broken in (
        good[: len(good) // 2],
        good[:60],
        encode(canvas().convert("RGB"), "JPEG")[:200],
    ):
        with pytest.raises(ImageError) as refused:
            decode_image(broken)
        assert "PNG, JPEG, WebP, GIF or BMP" in str(refused.value)


def test_a_progressive_jpeg_of_thousands_of_scans_is_refused_before_decoding():
    bomb = jpeg_scan_bomb(20_000)  # 288 kB; libjpeg would spend about 7 s on it
    assert count_structure(bomb, "JPEG")[0] == MAX_JPEG_SCANS + 1  # counted up to the limit
    started = time.thread_time()
    with pytest.raises(ImageError) as refused:
        decode_image(bomb)
    assert refused.value.code == "image_too_complex"
    assert "scans" in str(refused.value)
    assert time.thread_time() - started < 0.2


def test_ordinary_progressive_jpegs_decode():
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (600, 800, 3), np.uint8))
    progressive = encode(photo, "JPEG", progressive=True, quality=90)
    assert 5 <= count_structure(progressive, "JPEG")[0] <= 12
    assert decode_image(progressive).size == (800, 600)
    # a few dozen extra scans still decode: the limit is far above any encoder's script
    assert decode_image(jpeg_scan_bomb(MAX_JPEG_SCANS - 2)).size == (2000, 2000)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (png_with_chunks, "PNG"),
        (jpeg_with_markers, "JPEG"),
        (gif_with_extensions, "GIF"),
        (webp_with_chunks, "WEBP"),
    ],
)
def test_too_many_chunks_segments_or_blocks_are_refused(make, kind):
    assert decode_image(make(10)).size == (28, 28)  # a few are fine
    bomb = make(100_000)
    assert count_structure(bomb, kind)[1] == MAX_SEGMENTS + 1
    with pytest.raises(ImageError) as refused:
        decode_image(bomb)
    assert refused.value.code == "image_too_complex"


def test_decoding_stops_at_its_cpu_budget():
    """A 36 kB RLE BMP that Pillow expands pixel by pixel in Python: 0.2 s of CPU at 4 MP."""
    bmp = rle4_bmp()
    assert decode_image(bmp).size == (2000, 2000)
    started = time.thread_time()
    with pytest.raises(ImageError) as refused:
        decode_image(bmp, DecodeLimits(cpu_seconds=0.02))
    spent = time.thread_time() - started
    assert refused.value.code == "image_too_complex" and "CPU" in str(refused.value)
    assert spent < 0.1  # stopped near the budget, not at the end


def test_the_exif_orientation_is_applied_first():
    tall = Image.new("L", (40, 100), 255)
    ImageDraw.Draw(tall).rectangle((0, 0, 39, 9), fill=0)  # a dark band at the top
    # Stored turned a quarter anticlockwise (100×40), with orientation 6: turn 90° clockwise.
    stored = tall.transpose(Image.Transpose.ROTATE_90)
    upright = decode_image(with_orientation(stored, 6))
    assert upright.size == (40, 100)
    pixels = np.asarray(upright.convert("L"), dtype=np.float32)
    assert pixels[:10].mean() < 60 and pixels[20:].mean() > 200  # the band is at the top again
    assert decode_image(with_orientation(stored, 1)).size == (100, 40)  # 1 = as stored


def test_only_the_first_frame_of_an_animation_is_decoded():
    frames = [Image.new("L", (28, 28), v) for v in (0, 255, 0)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    image = decode_image(buffer.getvalue())
    assert np.asarray(image.convert("L")).max() == 0
