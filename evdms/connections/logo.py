"""The connection logo: GIF, JPEG or PNG by content, exactly 60 × 30 px, ≤ 0.5 MB.

Only the header is read to learn the format and size, by Pillow's own readers of the
three accepted formats, so an oversized or decompression-bomb image is refused, with its
real size, before any pixel is decoded. An accepted logo is re-encoded as PNG, which drops
every metadata chunk (EXIF, comments, GPS…).
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
from django.utils.translation import ngettext
from PIL import GifImagePlugin, Image, JpegImagePlugin, PngImagePlugin
from PIL.ImageFile import ImageFile

from evdms.connections.rules import LOGO_MAX_BYTES, LOGO_SIZE
from evdms.ui.forms import size_text

ACCEPTED_FORMATS = {"GIF", "JPEG", "PNG"}
_READERS: tuple[type[ImageFile], ...] = (
    PngImagePlugin.PngImageFile,
    JpegImagePlugin.JpegImageFile,
    GifImagePlugin.GifImageFile,
)
# A logo as given: the bytes, or the uploaded file (read here, no further than needed).
Logo: TypeAlias = "bytes | File[bytes]"


def _header(data: bytes) -> ImageFile | None:
    """The image with only its header read, if it is one of the accepted formats.

    Not ``Image.open``: its decompression-bomb check fails on a 50,000 × 50,000 header
    without saying the size, and it tries every format Pillow knows. Nothing is decoded
    here, and nothing of another size than 60 × 30 ever is."""
    for reader in _READERS:
        try:
            return reader(io.BytesIO(data))
        except (SyntaxError, OSError, ValueError, IndexError, TypeError, EOFError, struct.error):
            continue
    return None


def _read(logo: Logo) -> tuple[bytes, int]:
    if isinstance(logo, bytes):
        return logo, len(logo)
    # One byte past the limit is enough to refuse; the size the upload declares is the
    # real one, for the message.
    data = logo.read(LOGO_MAX_BYTES + 1)
    return data, max(len(data), logo.size or 0)


def clean_logo(logo: Logo) -> tuple[bytes, str]:
    """(PNG bytes, SHA-256) of an acceptable logo; else ValidationError naming the rule."""
    data, size = _read(logo)
    if size > LOGO_MAX_BYTES:
        # The file's exact bytes first, and by how much it is over: rounded to one
        # decimal, a file just over the limit would read "0.5 MB" like the limit itself.
        over = size - LOGO_MAX_BYTES
        raise ValidationError(
            ngettext(
                "The logo must be at most %(limit)s; this file is %(size)s bytes "
                "(%(megabytes)s MB), %(over)s byte too large.",
                "The logo must be at most %(limit)s; this file is %(size)s bytes "
                "(%(megabytes)s MB), %(over)s bytes too large.",
                over,
            )
            % {
                "limit": size_text(LOGO_MAX_BYTES),
                "size": number_format(size, force_grouping=True),
                "megabytes": number_format(size / 1_048_576, 2),
                "over": number_format(over, force_grouping=True),
            }
        )
    if not data:
        raise ValidationError(_("The logo file is empty."))
    image = _header(data)
    if image is None or image.format not in ACCEPTED_FORMATS:
        raise ValidationError(
            _(
                "The logo must be a GIF, JPEG or PNG image; this file's content is not one "
                "of those, whatever its name."
            )
        )
    width, height = image.size
    bomb = Image.MAX_IMAGE_PIXELS  # the pixel count Pillow calls a decompression bomb
    if bomb is not None and width * height > bomb:
        raise ValidationError(
            _(
                "The logo is too large in pixels (%(width)s × %(height)s; at most "
                "%(max_width)s × %(max_height)s)."
            )
            % {
                "width": number_format(width, force_grouping=True),
                "height": number_format(height, force_grouping=True),
                "max_width": LOGO_SIZE[0],
                "max_height": LOGO_SIZE[1],
            }
        )
    if image.size != LOGO_SIZE:
        raise ValidationError(
            _(
                "The logo must be exactly %(max_width)s × %(max_height)s pixels; "
                "this one is %(width)s × %(height)s."
            )
            % {
                "width": width,
                "height": height,
                "max_width": LOGO_SIZE[0],
                "max_height": LOGO_SIZE[1],
            }
        )
    try:
        image.load()
        converted = image.convert("RGBA")
    except (OSError, ValueError, SyntaxError, struct.error) as exc:
        raise ValidationError(_("The logo image is damaged and cannot be read.")) from exc
    out = io.BytesIO()
    converted.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    return png, hashlib.sha256(png).hexdigest()
