from __future__ import annotations

import base64
import logging

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from evdms.notifications.models import EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)


def deliver_now(email_ids: list[int]) -> list[int]:
    """Send many outbox rows over one mail connection, all claimed first in one
    transaction (so a row is sent once even if two workers try). Returns the ids that
    were sent."""
    if not email_ids:
        return []
    sent: list[int] = []
    # The mail server is reached before anything is claimed: when it is down, the rows
    # stay queued for the next run instead of being stuck as "sending".
    with get_connection() as connection:
        with transaction.atomic():
            # PostgreSQL locks the rows read (skipping another worker's); SQLite runs
            # IMMEDIATE transactions, one writer at a time: the rows read stay ours.
            claimed = list(
                OutboundEmail.objects.select_for_update(skip_locked=True)
                .filter(pk__in=email_ids, status=EmailStatus.QUEUED)
                .values_list("pk", flat=True)
            )
            OutboundEmail.objects.filter(pk__in=claimed).update(status=EmailStatus.SENDING)
        for email in OutboundEmail.objects.filter(pk__in=claimed).order_by("pk"):
            message = EmailMultiAlternatives(
                subject=email.subject, body=email.text_body, to=email.to, connection=connection
            )
            if email.html_body:
                message.attach_alternative(email.html_body, "text/html")
            try:
                message.send()
            except Exception as exc:  # keep it for a retry; go on with the others
                OutboundEmail.objects.filter(pk=email.pk).update(
                    status=EmailStatus.FAILED, attempts=1, last_error=str(exc)[:2000]
                )
                continue
            sent.append(email.pk)
    OutboundEmail.objects.filter(pk__in=sent).update(
        status=EmailStatus.SENT, attempts=1, sent_at=timezone.now()
    )
    return sent


@task()
def deliver_email(*, email_id: int) -> str:
    """Send one outbox row. Idempotent: only the worker that claims the row sends it."""
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status__in=[EmailStatus.QUEUED, EmailStatus.FAILED]
    ).update(status=EmailStatus.SENDING)
    if not claimed:  # sent already, or another worker has it
        return "skipped"
    email = OutboundEmail.objects.get(pk=email_id)
    message = EmailMultiAlternatives(subject=email.subject, body=email.text_body, to=email.to)
    if email.html_body:
        message.attach_alternative(email.html_body, "text/html")
    for item in email.attachments:
        message.attach(
            item["filename"], base64.b64decode(item["content_b64"]), item["content_type"]
        )
    try:
        message.send()
    except Exception as exc:  # any transport failure: keep the row for a retry
        logger.warning("e-mail %s failed: %s", email_id, exc)
        OutboundEmail.objects.filter(pk=email_id).update(
            status=EmailStatus.FAILED, attempts=email.attempts + 1, last_error=str(exc)[:2000]
        )
        raise
    OutboundEmail.objects.filter(pk=email_id).update(
        status=EmailStatus.SENT, attempts=email.attempts + 1, sent_at=timezone.now(), last_error=""
    )
    return "sent"
