from __future__ import annotations

import base64
import logging

from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django_tasks import task

from evdms.notifications.models import EmailStatus, OutboundEmail

logger = logging.getLogger(__name__)


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
