"""An encoded image's width and height read from its header, without decoding it.

A 40000×40000 JPEG can be a few megabytes on disk and 4.8 GB once decoded, so the size is judged
from the header before anything decodes it. Covers what tf.io.decode_image reads: JPEG, PNG, GIF
and BMP.
"""
from __future__ import annotations

import struct

# 50 megapixels: a 48-MP phone photo passes; decoded it is 150 MB as RGB bytes and 600 MB as the
# float32 pixels resizing makes of it. A 12000×12000 photo (144 MP) is refused.
MAX_IMAGE_PIXELS = 50_000_000

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): they carry the size.
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD9)}  # markers without a length field


def dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header of a JPEG, PNG, GIF or BMP; None for anything else or a
    header cut short (decoding it then fails with the decoder's own reason)."""
    try:
        if data[:2] == b"\xff\xd8":
            return _jpeg(data)
        if data[:8] == _PNG_SIGNATURE and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return struct.unpack("<HH", data[6:10])
        if data[:2] == b"BM":
            width, height = struct.unpack("<ii", data[18:26])
            return width, abs(height)  # a negative height: rows stored top-down
    except struct.error:
        return None
    return None


def _jpeg(data: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        if marker == 0xDA:  # start of scan: no frame header before the image data
            return None
        (length,) = struct.unpack(">H", data[position + 2:position + 4])
        if marker in _JPEG_FRAMES:
            height, width = struct.unpack(">HH", data[position + 5:position + 9])
            return width, height
        position += 2 + length
    return None


def too_large(data: bytes, max_pixels: int = MAX_IMAGE_PIXELS) -> str | None:
    """Why the image is too large to decode, or None (also for an unreadable header)."""
    size = dimensions(data)
    if size is None or size[0] * size[1] <= max_pixels:
        return None
    width, height = size
    return (f"image is {width}×{height} pixels ({width * height / 1e6:.0f} MP), over the bound of "
            f"{max_pixels / 1e6:g} MP: decoded it would take {width * height * 3 / 1e9:.1f} GB "
            "(resize it: `flowers data convert` does)")
