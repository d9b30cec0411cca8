"""Sending e-mail: render now, store in the outbox, deliver after commit in the worker."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string

from evdms.accounts.models import Organisation
from evdms.notifications.models import OutboundEmail


def email_render(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    organisation: Organisation | None = None,
) -> OutboundEmail:
    """An outbox row, rendered but not saved (for bulk sending, e.g. invitations)."""
    ctx = {"site_url": settings.SITE_URL, **context}
    base = f"notifications/email/{template}"
    # Subjects and text parts through the text engine (no HTML escaping); the HTML part
    # through the default one, escaped.
    subject = " ".join(render_to_string(f"{base}.subject.txt", ctx, using="text").split())
    return OutboundEmail(
        to=list(to),
        subject=subject[:300],
        text_body=render_to_string(f"{base}.txt", ctx, using="text"),
        html_body=render_to_string(f"{base}.html", ctx),
        template=template,
        organisation=organisation,
    )


def email_send(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    organisation: Organisation | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> OutboundEmail:
    """Queue an e-mail made from ``notifications/email/<template>.{subject,txt,html}``.

    Delivery is enqueued only once the surrounding transaction commits.
    """
    from evdms.notifications.tasks import deliver_email

    email = email_render(to=to, template=template, context=context, organisation=organisation)
    email.attachments = [
        {
            "filename": name,
            "content_type": content_type,
            "content_b64": base64.b64encode(content).decode(),
        }
        for name, content, content_type in attachments
    ]
    email.save()
    transaction.on_commit(lambda: deliver_email.enqueue(email_id=email.pk))
    return email
