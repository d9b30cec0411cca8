"""The files of a job, checked by their content, never by their name or declared type.

Photos (the installer's survey photos, the driver's own of the wall or fuse box): JPEG
or PNG, at most 10 MB and 40 megapixels. Only the header is read to learn the format and
size, by Pillow's own readers of the two accepted formats (as ``connections.logo`` does),
so a decompression bomb is refused with its real size before any pixel is decoded. An
accepted photo is turned upright, shrunk to at most 2,000 px on its long side and
re-encoded as JPEG, which drops every metadata block (EXIF, GPS, comments).

Installer declarations: a PDF, at most 10 MB, that pypdf parses, not encrypted, with at
least one page. It is kept as uploaded.
"""

from __future__ import annotations

import hashlib
import io
import struct
from typing import TypeAlias

from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin
from PIL.ImageFile import ImageFile

from evdms.ui.forms import size_text

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_LONG_SIDE = 2000
PHOTO_JPEG_QUALITY = 85
DECLARATION_MAX_BYTES = 10 * 1024 * 1024

_READERS: tuple[type[ImageFile], ...] = (
    JpegImagePlugin.JpegImageFile,
    PngImagePlugin.PngImageFile,
)
# A file as given: the bytes, or the uploaded file (read here, no further than needed).
Upload: TypeAlias = "bytes | File[bytes]"


def read_limited(data: Upload, limit: int) -> tuple[bytes, int]:
    """The bytes (at most ``limit`` + 1 of them) and the real size, for the message."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        return raw, len(raw)
    if hasattr(data, "seek"):
        data.seek(0)
    raw = data.read(limit + 1)
    return raw, max(len(raw), getattr(data, "size", 0) or 0)


def _header(data: bytes) -> ImageFile | None:
    for reader in _READERS:
        try:
            return reader(io.BytesIO(data))
        except (SyntaxError, OSError, ValueError, IndexError, TypeError, EOFError, struct.error):
            continue
    return None


def clean_photo(data: Upload) -> tuple[bytes, str]:
    """(JPEG bytes, SHA-256) of an acceptable photo; else ValidationError naming the rule."""
    raw, size = read_limited(data, PHOTO_MAX_BYTES)
    if size > PHOTO_MAX_BYTES:
        raise ValidationError(
            _("A photo must be at most %(limit)s; this file is %(size)s.")
            % {"limit": size_text(PHOTO_MAX_BYTES), "size": size_text(size)}
        )
    if not raw:
        raise ValidationError(_("The photo file is empty."))
    image = _header(raw)
    if image is None or image.format not in {"JPEG", "PNG"}:
        raise ValidationError(
            _(
                "A photo must be a JPEG or PNG image; this file's content is not one of "
                "those, whatever its name."
            )
        )
    width, height = image.size
    if width * height > PHOTO_MAX_PIXELS:
        raise ValidationError(
            _(
                "The photo is too large in pixels (%(width)s × %(height)s); at most "
                "%(limit)s megapixels."
            )
            % {
                "width": number_format(width, force_grouping=True),
                "height": number_format(height, force_grouping=True),
                "limit": PHOTO_MAX_PIXELS // 1_000_000,
            }
        )
    if width < 1 or height < 1:
        raise ValidationError(_("The photo image is damaged and cannot be read."))
    try:
        image.load()
        upright = ImageOps.exif_transpose(image) or image
        converted = upright.convert("RGB")
        converted.thumbnail((PHOTO_LONG_SIDE, PHOTO_LONG_SIDE), Image.Resampling.LANCZOS)
    except (OSError, ValueError, SyntaxError, struct.error, Image.DecompressionBombError) as exc:
        raise ValidationError(_("The photo image is damaged and cannot be read.")) from exc
    out = io.BytesIO()
    converted.save(out, format="JPEG", quality=PHOTO_JPEG_QUALITY, optimize=True)
    jpeg = out.getvalue()
    return jpeg, hashlib.sha256(jpeg).hexdigest()


def clean_declaration(data: Upload) -> bytes:
    """The PDF's bytes if it is an acceptable declaration; else ValidationError."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    raw, size = read_limited(data, DECLARATION_MAX_BYTES)
    if size > DECLARATION_MAX_BYTES:
        raise ValidationError(
            _("The declaration must be at most %(limit)s; this file is %(size)s.")
            % {"limit": size_text(DECLARATION_MAX_BYTES), "size": size_text(size)}
        )
    if not raw:
        raise ValidationError(_("The declaration file is empty."))
    not_pdf = ValidationError(
        _(
            "The declaration must be a PDF document; this file's content is not one, "
            "whatever its name."
        )
    )
    if not raw.startswith(b"%PDF-"):
        raise not_pdf
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            raise ValidationError(
                _(
                    "The declaration PDF is encrypted or password-protected; upload it "
                    "without a password so the organisation and the driver can open it."
                )
            )
        pages = len(reader.pages)
    except ValidationError:
        raise
    except (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, OSError):
        raise not_pdf from None
    except RecursionError:
        raise not_pdf from None
    if pages < 1:
        raise ValidationError(_("The declaration PDF has no pages."))
    return raw
