"""E-mail goes out after commit, through the worker, and really over SMTP."""

from __future__ import annotations

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction

from evdms.notifications.models import OutboundEmail
from evdms.notifications.services import email_send
from evdms.notifications.tasks import deliver_email


class Collect:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    yield handler
    controller.stop()


@pytest.mark.django_db(transaction=True)
def test_an_email_is_delivered_over_smtp_with_text_and_html_parts(smtp_server):
    with transaction.atomic():
        email_send(
            to=["nina@voltlease.example"],
            template="admin_invitation",
            context={
                "admin": None,
                "inviter": "nadia@voltlease.example",
                "organisation": "Voltlease",
                "role": "Analyst",
                "link": "http://127.0.0.1:8000/accounts/setup/abc/",
                "days": 7,
            },
        )
        assert smtp_server.messages == []  # nothing leaves before the commit
    assert len(smtp_server.messages) == 1
    _mail_from, rcpt, raw = smtp_server.messages[0]
    assert rcpt == ["nina@voltlease.example"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "You are invited to manage Voltlease on evdms"
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "http://127.0.0.1:8000/accounts/setup/abc/" in text
    assert 'href="http://127.0.0.1:8000/accounts/setup/abc/"' in html
    assert OutboundEmail.objects.get().status == "sent"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing(smtp_server):
    with pytest.raises(RuntimeError), transaction.atomic():
        email_send(
            to=["x@example.com"],
            template="password_reset",
            context={"user": None, "uid": "x", "token": "y"},
        )
        raise RuntimeError("the change failed")
    assert smtp_server.messages == []
    assert OutboundEmail.objects.count() == 0


@pytest.mark.django_db
def test_delivering_the_same_row_twice_sends_once(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        row = email_send(
            to=["x@example.com"],
            template="password_reset",
            context={"user": None, "uid": "x", "token": "y"},
        )
    deliver_email.call(email_id=row.pk)
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_a_failed_delivery_is_kept_for_a_retry(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nobody listens there
    settings.EMAIL_TIMEOUT = 2
    with django_capture_on_commit_callbacks(execute=True):
        row = email_send(
            to=["x@example.com"],
            template="password_reset",
            context={"user": None, "uid": "x", "token": "y"},
        )
    row.refresh_from_db()
    assert row.status == "failed"
    assert row.attempts == 1
    assert row.last_error


@pytest.mark.django_db
def test_the_development_outbox_shows_sent_mail_and_is_absent_in_production(
    client, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        row = email_send(
            to=["x@example.com"],
            template="password_reset",
            context={"user": None, "uid": "x", "token": "y"},
        )
    listing = client.get("/dev/outbox/").content.decode()
    assert "Reset your evdms password" in listing
    detail = client.get(f"/dev/outbox/{row.pk}/").content.decode()
    assert "x@example.com" in detail
    html = client.get(f"/dev/outbox/{row.pk}/html/")
    assert html["Content-Security-Policy"].startswith("sandbox")
    settings.DEV_OUTBOX = False
    assert client.get("/dev/outbox/").status_code == 404
    assert client.get(f"/dev/outbox/{row.pk}/").status_code == 404
