"""Image files built to make a decoder work far beyond their size, and files that carry metadata.

Each is a valid file of an accepted format, made byte by byte as an attacker would; the tests of
``model.decode`` and of the API send them.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg_scan_bomb(scans: int, side: int = 2000) -> bytes:
    """A white side×side progressive JPEG: its DC scan, then ``scans`` empty AC scans.

    Each extra scan is 14 bytes (a header and one end-of-band run over every block), and libjpeg
    passes over every block for each one: about 0.3 ms a scan at 2000×2000.
    """
    data = encode(Image.new("L", (side, side), 255), "JPEG", progressive=True, quality=50)
    head = data[: _end_of_first_scan(data)]
    # An AC Huffman table with one symbol, EOB14 (an end-of-band run of 2^14 + 14 extra bits),
    # coded as the single bit 0.
    table = b"\xff\xc4" + struct.pack(">H", 20) + b"\x10" + bytes([1] + [0] * 15) + b"\xe0"
    bits, blocks = "", (side // 8) ** 2
    while blocks > 0:
        run = min(max(blocks, 16384), 32767)
        bits += "0" + format(run - 16384, "014b")
        blocks -= run
    bits += "1" * (-len(bits) % 8)
    entropy = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    entropy = entropy.replace(b"\xff", b"\xff\x00")
    scan = b"\xff\xda" + struct.pack(">H", 8) + bytes([1, 1, 0x00, 1, 63, 0x00]) + entropy
    return head + table + scan * scans + b"\xff\xd9"


def _end_of_first_scan(data: bytes) -> int:
    """The offset of the marker after a JPEG's first scan's entropy-coded data."""
    i = 2
    while data[i + 1] != 0xDA:
        i += 2 + struct.unpack_from(">H", data, i + 2)[0]
    i += 2 + struct.unpack_from(">H", data, i + 2)[0]
    while True:
        i = data.index(b"\xff", i)
        if data[i + 1] == 0 or 0xD0 <= data[i + 1] <= 0xD7:
            i += 2
            continue
        return i


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_chunks(count: int, side: int = 28) -> bytes:
    """A white side×side PNG with ``count`` empty ancillary chunks before its image data."""
    rows = b"".join(b"\x00" + b"\xff" * side for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    chunks = [
        _png_chunk(b"IHDR", header),
        _png_chunk(b"abCd", b"") * count,
        _png_chunk(b"IDAT", zlib.compress(rows)),
        _png_chunk(b"IEND", b""),
    ]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def jpeg_with_markers(count: int) -> bytes:
    """A small JPEG with ``count`` empty comment segments before its frame."""
    data = encode(Image.new("L", (28, 28), 255), "JPEG")
    return data[:2] + b"\xff\xfe\x00\x02" * count + data[2:]


def gif_with_extensions(count: int) -> bytes:
    """A small GIF with ``count`` one-byte comment extensions before its image."""
    data = encode(Image.new("L", (28, 28), 255), "GIF")
    flags = data[10]
    start = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    return data[:start] + b"\x21\xfe\x01a\x00" * count + data[start:]


def webp_with_chunks(count: int) -> bytes:
    """A small lossless WebP with ``count`` unknown chunks after its image."""
    data = encode(Image.new("L", (28, 28), 255), "WEBP", lossless=True)
    body = data[12:] + b"ZZZZ\x00\x00\x00\x00" * count
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def rle4_bmp(side: int = 2000) -> bytes:
    """A side×side 4-bit RLE BMP of 36 kB: Pillow expands it pixel by pixel, in Python."""
    runs = bytearray()
    for _ in range(side):
        left = side
        while left:
            n = min(255, left)
            runs += bytes([n, 0x12])
            left -= n
        runs += b"\x00\x00"  # end of line
    runs += b"\x00\x01"  # end of bitmap
    palette = b"".join(bytes([i * 16, i * 16, i * 16, 0]) for i in range(16))
    offset = 14 + 40 + len(palette)
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 4, 2, len(runs), 2835, 2835, 16, 0)
    return b"BM" + struct.pack("<IHHI", offset + len(runs), 0, 0, offset) + info + palette + runs


def with_orientation(image: Image.Image, orientation: int) -> bytes:
    """``image`` as a JPEG whose EXIF says how to turn it (6: 90° clockwise to view)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def png_with_metadata(image: Image.Image) -> bytes:
    """``image`` as a PNG with a text author and email, an EXIF Artist, and trailing bytes."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Ada Lovelace")
    info.add_text("Email", "ada@example.org")
    exif = Image.Exif()
    exif[0x013B] = "Ada Lovelace"  # Artist
    return encode(image, "PNG", pnginfo=info, exif=exif.tobytes()) + b"TRAILING-SECRET-DATA"
