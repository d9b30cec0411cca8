"""Logo rules with real image files made here: content, size, weight, bombs."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zlib

import pytest
from django.core.exceptions import ValidationError
from PIL import Image, PngImagePlugin

from evdms.connections.logo import clean_logo


def image_bytes(fmt: str, size=(60, 30), **save) -> bytes:
    out = io.BytesIO()
    mode = "P" if fmt == "GIF" else "RGB"
    Image.new(mode, size, color=1 if mode == "P" else (20, 120, 60)).save(out, format=fmt, **save)
    return out.getvalue()


def message(data: bytes) -> str:
    with pytest.raises(ValidationError) as caught:
        clean_logo(data)
    return caught.value.messages[0]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF"])
def test_a_60_by_30_gif_jpeg_or_png_is_accepted_and_stored_as_png(fmt):
    png, digest = clean_logo(image_bytes(fmt))
    stored = Image.open(io.BytesIO(png))
    assert stored.format == "PNG"
    assert stored.size == (60, 30)
    assert len(digest) == 64


@pytest.mark.parametrize("size", [(61, 30), (60, 31), (30, 60), (120, 60)])
def test_any_other_size_is_refused_with_the_size_found(size):
    assert message(image_bytes("PNG", size)) == (
        f"The logo must be exactly 60 × 30 pixels; this one is {size[0]} × {size[1]}."
    )


def test_the_content_decides_not_the_name():
    # A PNG uploaded as "logo.gif" is fine: we never look at the name.
    assert clean_logo(image_bytes("PNG"))[0]


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="60" height="30"></svg>',
        b"just some text named logo.png",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # a PNG signature and nothing sensible after
        image_bytes("BMP"),
    ],
)
def test_anything_that_is_not_a_gif_jpeg_or_png_is_refused(data):
    assert message(data).startswith("The logo must be a GIF, JPEG or PNG image")


def test_a_file_over_half_a_megabyte_is_refused_with_its_size():
    data = image_bytes("PNG")
    data += b"\x00" * (524_289 - len(data))  # trailing bytes after the image
    assert len(data) == 524_289
    assert message(data) == (
        "The logo must be at most 0.5 MB (524,288 bytes); this file is 524,289 bytes "
        "(0.50 MB), 1 byte too large."
    )
    # A "3 MB" file: its bytes as they are, not a rounding that hides them.
    big = image_bytes("PNG")
    big += b"\x00" * (3_000_000 - len(big))
    assert message(big) == (
        "The logo must be at most 0.5 MB (524,288 bytes); this file is 3,000,000 bytes "
        "(2.86 MB), 2,475,712 bytes too large."
    )
    exactly = image_bytes("PNG")
    exactly += b"\x00" * (524_288 - len(exactly))
    assert clean_logo(exactly)[0]


def test_metadata_is_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "secret-person")
    png, _ = clean_logo(image_bytes("PNG", pnginfo=info))
    assert b"secret-person" not in png
    jpeg = image_bytes("JPEG", exif=Image.Exif())
    assert b"Exif" not in clean_logo(jpeg)[0]


def test_a_decompression_bomb_is_refused_quickly_without_large_memory():
    # A 20,000 × 20,000 PNG (400 megapixels) compresses to a few hundred kilobytes.
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, format="PNG", optimize=True)
    bomb = out.getvalue()
    assert len(bomb) < 524_288
    tracemalloc.start()
    started = time.perf_counter()
    text = message(bomb)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert text == "The logo is too large in pixels (20,000 × 20,000; at most 60 × 30)."
    assert peak < 20 * 1024 * 1024  # nothing was decoded
    assert elapsed < 5  # a guard against decoding, not a speed target


def png_header(width: int, height: int) -> bytes:
    """A PNG's signature and header claiming a size, and one tiny data chunk: what a
    decompression bomb looks like before its pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_50000_by_50000_bomb_is_refused_for_its_pixels_not_its_format():
    assert message(png_header(50_000, 50_000)) == (
        "The logo is too large in pixels (50,000 × 50,000; at most 60 × 30)."
    )
