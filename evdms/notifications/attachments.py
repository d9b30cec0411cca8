"""The files kept with an outbox message, as people list and download them: on the
development outbox and in the Django admin. The rows keep them base64-encoded in JSON
(``OutboundEmail.attachments``), so a retry sends the same bytes; nobody should have to
read or edit that encoding."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.http import HttpResponse
from django.utils.http import content_disposition_header

from evdms.notifications.models import OutboundEmail


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)


def attachments_of(email: OutboundEmail) -> list[Attachment]:
    """The message's files in the order they were sent; a damaged entry (not base64)
    is listed empty rather than breaking the page."""
    found = []
    for index, entry in enumerate(email.attachments or []):
        try:
            content = base64.b64decode(entry.get("content_b64", ""), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        found.append(
            Attachment(
                index=index,
                filename=str(entry.get("filename") or f"attachment-{index + 1}"),
                content_type=str(entry.get("content_type") or "application/octet-stream"),
                content=content,
            )
        )
    return found


def attachment_response(attachment: Attachment) -> HttpResponse:
    """A download, never shown inline: a stored HTML file must not run on our origin."""
    response = HttpResponse(attachment.content, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=attachment.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
