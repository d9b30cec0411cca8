"""Reading uploaded files off a request, shared by the apps' pages."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest


def uploaded_file(request: HttpRequest, field: str) -> UploadedFile[bytes] | None:
    """The file sent in ``field`` of a multipart form, or None when none was chosen."""
    return request.FILES.get(field)
