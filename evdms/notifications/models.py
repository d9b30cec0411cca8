from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboundEmail(models.Model):
    """One e-mail the platform sends: the outbox row the worker delivers.

    The row is written in the same transaction as the change that causes it, and the
    worker claims it with a conditional update, so an e-mail is never lost with a
    rolled-back change nor sent twice by two workers.
    """

    to = models.JSONField()
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    template = models.CharField(max_length=100)
    # The language it was written in (its recipient's: evdms.ui.language).
    language = models.CharField(max_length=10, default="en-gb")
    # [{"filename": ..., "content_type": ..., "content_b64": ...}]: small files such as a
    # signed terms PDF, kept with the message so a retry sends the same bytes.
    attachments = models.JSONField(default=list, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
