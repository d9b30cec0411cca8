"""The connection logo: GIF, JPEG or PNG by content, exactly 60 × 30 px, ≤ 0.5 MB.

Pillow reads only the header to learn the format and size, so an oversized or
decompression-bomb image is refused before any pixel is decoded. An accepted logo is
re-encoded as PNG, which drops every metadata chunk (EXIF, comments, GPS…).
"""

from __future__ import annotations

import hashlib
import io
import warnings

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

from evdms.connections.rules import LOGO_MAX_BYTES, LOGO_SIZE

ACCEPTED_FORMATS = {"GIF", "JPEG", "PNG"}


def clean_logo(data: bytes) -> tuple[bytes, str]:
    """(PNG bytes, SHA-256) of an acceptable logo; else ValidationError naming the rule."""
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(
            f"The logo must be at most 0.5 MB ({LOGO_MAX_BYTES:,} bytes); "
            f"this file is {len(data):,} bytes."
        )
    if not data:
        raise ValidationError("The logo file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image_format = image.format
            size = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        image_format, size = None, (0, 0)
    except (OSError, ValueError, SyntaxError):
        image_format, size = None, (0, 0)
    if image_format not in ACCEPTED_FORMATS:
        raise ValidationError(
            "The logo must be a GIF, JPEG or PNG image; this file's content is not one of "
            "those, whatever its name."
        )
    if size != LOGO_SIZE:
        raise ValidationError(
            f"The logo must be exactly {LOGO_SIZE[0]} × {LOGO_SIZE[1]} pixels; "
            f"this one is {size[0]} × {size[1]}."
        )
    try:
        image.load()
        converted = image.convert("RGBA")
    except (OSError, ValueError, SyntaxError) as exc:
        raise ValidationError("The logo image is damaged and cannot be read.") from exc
    out = io.BytesIO()
    converted.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    return png, hashlib.sha256(png).hexdigest()
