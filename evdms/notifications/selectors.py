"""Reads of the outbox that other areas share."""

from __future__ import annotations

from datetime import datetime

from evdms.notifications.models import OutboundEmail


def email_queued_since(*, template: str, to: str, since: datetime) -> bool:
    """Whether an e-mail of ``template`` to exactly ``to`` was queued at or after
    ``since`` (whether or not it has been delivered yet)."""
    return OutboundEmail.objects.filter(template=template, to=[to], created_at__gte=since).exists()
