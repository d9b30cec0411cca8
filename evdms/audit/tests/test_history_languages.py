"""Issue #19: a history reads in the reader's language (the action's name, field labels
and choice labels); what the audit log stored stays as it was written."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from evdms.accounts.models import User
from evdms.accounts.services import admin_invite
from evdms.audit.models import AuditEvent
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db


def _history(page: str) -> str:
    section = html.unescape(page[page.index('id="history-heading"') :])
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_a_german_admin_reads_the_history_in_german_and_the_record_is_unchanged(world):
    User.objects.filter(pk=world.nadia.user_id).update(language="de")
    invited = admin_invite(
        actor=world.actor(world.nadia),
        email="fay@voltlease.example",
        full_name="Fay",
        role="connections_officer",
    )
    event = AuditEvent.objects.get(action="admin.invite")
    stored = dict(event.changes)
    page = client_for(world.nadia).get(reverse("accounts:admin_detail", args=[invited.pk]))
    text = _history(page.content.decode())
    assert "Verlauf" in text and "Administrator eingeladen" in text
    assert "Sachbearbeiter Ladeprogramme" in text  # the role's choice label
    assert "Eingeladen" in text  # the status's
    for english in ("History", "Admin invited", "Connections Officer"):
        assert english not in text, english
    event.refresh_from_db()
    assert event.changes == stored  # as recorded: codes and English, not the page's words
    assert stored["role"] == [None, "connections_officer"]
    assert stored["connections"] == [None, "All connections"]


def test_grant_records_are_english_whatever_language_the_actor_reads(world):
    User.objects.filter(pk=world.nadia.user_id).update(language="fr")
    client_for(world.nadia).post(
        reverse("accounts:grants"),
        {"grantee": world.org_b.public_id, "rights": ["view_transactions"], "scope": "all"},
    )
    event = AuditEvent.objects.get(action="grant.create")
    assert event.changes["rights"] == [None, ["View transactions"]]
    scope = "all connections of Voltlease, present and future"
    assert event.changes["connections"] == [None, scope]
