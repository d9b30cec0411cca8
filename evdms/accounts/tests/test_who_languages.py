"""Issue #19: who acted, when it is not a person (an API key, the system, another
organisation's admin), reads in the reader's language, in e-mails and on histories. The
records keep a code; rows from before keep their English and read the same way."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse
from django.utils import translation

from evdms.accounts.models import Organisation, User
from evdms.accounts.permissions import Actor
from evdms.accounts.services import admin_invite, api_key_create
from evdms.accounts.who import who_shown
from evdms.audit.models import AuditAction, AuditEvent
from evdms.audit.services import audit_record
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import client_for, make_connection

pytestmark = pytest.mark.django_db


def _history(page: str) -> str:
    section = html.unescape(page[page.index('id="history-heading"') :])
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_an_invitation_from_an_api_key_names_the_key_in_the_emails_language(world):
    Organisation.objects.filter(pk=world.org_a.pk).update(default_language="de")
    world.org_a.refresh_from_db()
    key, _ = api_key_create(
        actor=None, organisation=world.org_a, name="CRM", role="network_manager"
    )
    admin_invite(
        actor=Actor.for_api_key(key),
        email="fay@voltlease.example",
        full_name="Fay",
        role="connections_officer",
    )
    email = OutboundEmail.objects.get(template="admin_invitation")
    for body in (email.text_body, html.unescape(email.html_body)):
        assert "API-Schlüssel „CRM“ hat Sie als" in body
        assert "API key" not in body and "api_key:" not in body
    event = AuditEvent.objects.get(action="admin.invite")
    assert event.actor_label == "api_key:CRM"  # a code, not the English of the day


def test_a_connections_history_names_keys_the_system_and_other_admins_in_german(world):
    connection = make_connection(world.org_a)
    AuditEvent.objects.filter(target_type="connections.connection").delete()
    key, _ = api_key_create(
        actor=None, organisation=world.org_a, name="CRM", role="network_manager"
    )
    audit_record(
        actor=Actor.for_api_key(key), action=AuditAction.CONNECTION_UPDATE, target=connection
    )
    audit_record(actor=None, action=AuditAction.CONNECTION_UPDATE, target=connection)
    old = {"action": AuditAction.CONNECTION_UPDATE, "target_type": "connections.connection"}
    AuditEvent.objects.create(
        actor_label="API key “Old key”",
        organisation=world.org_a,
        target_id=str(connection.pk),
        **old,
    )
    # A key of another organisation (acting through a grant), recorded before the codes.
    AuditEvent.objects.create(
        actor_label="API key “Theirs”",
        organisation=world.org_b,
        target_id=str(connection.pk),
        **old,
    )
    audit_record(
        actor=world.actor(world.bob),
        action=AuditAction.CONNECTION_UPDATE,
        target=connection,
        organisation=world.org_a,
    )
    events = AuditEvent.objects.filter(target_type="connections.connection")
    assert sorted(events.values_list("actor_label", flat=True)) == [
        "API key “Old key”",
        "API key “Theirs”",
        "api_key:CRM",
        "bob@rival.example",
        "system",
    ]
    User.objects.filter(pk=world.nadia.user_id).update(language="de")

    page = client_for(world.nadia).get(reverse("connections:detail", args=[connection.pk]))
    text = _history(page.content.decode())

    for german in (
        "API-Schlüssel „CRM“",
        "API-Schlüssel „Old key“",
        "Ein API-Schlüssel ·",
        "System ·",
        "Ein Administrator von Rival Lease",
    ):
        assert german in text, german
    for english in ("API key", "An API key", "An admin of", "system ·", "api_key:", "Theirs"):
        assert english not in text, english


def test_every_old_english_label_reads_as_its_code():
    with translation.override("de"):
        assert who_shown("system") == who_shown("system") == "System"
        assert who_shown("the platform") == who_shown("platform") == "die Plattform"
        assert who_shown("charger CP-1") == who_shown("charger:CP-1") == "Ladestation CP-1"
        assert who_shown("approval link sent to a@b.example") == (
            "Genehmigungslink gesendet an a@b.example"
        )
        assert who_shown("dan@example.com") == "dan@example.com"
        assert who_shown("demo") == "demo"  # a name typed in stays as written
