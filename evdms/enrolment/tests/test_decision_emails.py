"""The e-mails about a driver's terms and a denied request say what they mean (issue
#18): the signed-terms e-mail states one time, in the organisation's time zone with
the zone named (it said the local time, then "UTC"); the denial has a subject of its own
(it had the acknowledgement's)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evdms.accounts.permissions import Actor
from evdms.enrolment import services
from evdms.enrolment.models import TermsAcceptance
from evdms.enrolment.tasks import send_signed_terms
from evdms.enrolment.tests.test_join import driver
from evdms.notifications.models import OutboundEmail
from evdms.notifications.services import email_render
from evdms.testing.fixtures import make_connection, make_membership

pytestmark = pytest.mark.django_db


def test_the_signed_terms_email_states_one_time_in_the_organisations_zone(world, settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    connection = make_connection(
        world.org_a,
        custom_terms_enabled="yes",
        terms_text="Be nice to the charger.",
        signed_terms_recipients="hr@voltlease.example",
    )
    membership = make_membership(connection, driver())
    acceptance = TermsAcceptance.objects.create(
        membership=membership,
        driver=membership.driver,
        text="Be nice to the charger.",
        sha256="ab" * 32,
        accepted_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    )
    send_signed_terms.call(acceptance_id=acceptance.pk)
    email = OutboundEmail.objects.get(template="signed_terms")
    for part in (email.text_body, email.html_body):
        assert "on 1 December 2026 10:30 CET (Europe/Amsterdam)." in part
        assert "UTC" not in part
        assert "Fingerprint of the agreed text (SHA-256): " + "ab" * 32 in part


def test_the_denial_has_its_own_subject(world):
    connection = make_connection(world.org_a, name="Home")
    membership = make_membership(connection, driver(), status="pending")
    actor = Actor(organisation=world.org_a, role="network_manager", user=world.nadia.user)
    services.membership_deny(actor=actor, membership=membership, message="Not an employee.")
    email = OutboundEmail.objects.get(template="driver_denied")
    received = email_render(
        to=["x@example.com"],
        template="driver_request_received",
        context={"membership": membership, "connection": connection},
    )
    assert email.subject != received.subject
    assert email.subject == f"Your request to join {connection.name_for_drivers} was not approved"
