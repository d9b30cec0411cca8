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
from evdms.ui.language import email_context, organisation_time_zone, user_language


def email_render(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    organisation: Organisation | None = None,
    language: str | None = None,
) -> OutboundEmail:
    """An outbox row, rendered but not saved (for bulk sending, e.g. invitations).

    Written in ``language`` (the recipient's: ``evdms.ui.language.user_language``),
    else the organisation's default language, with times in the organisation's zone.
    """
    ctx = {"site_url": settings.SITE_URL, **context}
    base = f"notifications/email/{template}"
    language = language or user_language(None, organisation)
    with email_context(language, organisation_time_zone(organisation)):
        # Subjects and text parts through the text engine (no HTML escaping); the HTML
        # part through the default one, escaped.
        subject = " ".join(render_to_string(f"{base}.subject.txt", ctx, using="text").split())
        text_body = render_to_string(f"{base}.txt", ctx, using="text")
        html_body = render_to_string(f"{base}.html", ctx)
    return OutboundEmail(
        to=list(to),
        subject=subject[:300],
        text_body=text_body,
        html_body=html_body,
        template=template,
        organisation=organisation,
        language=language,
    )


def email_send(
    *,
    to: Sequence[str],
    template: str,
    context: Mapping[str, Any],
    organisation: Organisation | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    language: str | None = None,
) -> OutboundEmail:
    """Queue an e-mail made from ``notifications/email/<template>.{subject,txt,html}``.

    Delivery is enqueued only once the surrounding transaction commits.
    """
    from evdms.notifications.tasks import deliver_email

    email = email_render(
        to=to, template=template, context=context, organisation=organisation, language=language
    )
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
