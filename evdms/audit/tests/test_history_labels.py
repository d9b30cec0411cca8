"""A history as admins read it: the action's name and the fields' labels, choice labels
and formatted values, never the stored codes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from evdms.enrolment.services.invitations import invitation_batch_create
from evdms.testing.fixtures import client_for, make_connection

pytestmark = pytest.mark.django_db


def history(html: str) -> str:
    section = html[html.index('id="history-heading"') :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_a_connections_history_names_actions_fields_and_choices(world):
    connection = make_connection(
        world.org_a, installation_payment_model="budget", installation_budget="1500.00"
    )
    invitation_batch_create(
        actor=world.actor(world.nadia),
        connection=connection,
        text="\n".join(f"d{i}@example.com" for i in range(3)) + "\nnot-an-address",
    )
    page = client_for(world.nadia).get(reverse("connections:detail", args=[connection.pk]))
    text = history(page.content.decode())
    assert "Connection created" in text and "Drivers invited" in text
    assert "connection.create" not in text and "invitation_batch.create" not in text
    assert "Connection Type: Leasing Company" in text  # the choice's label
    assert "leasing_company" not in text and "connection_type" not in text
    assert "Invited: 3" in text and "Rejected: 1" in text  # no "— →" for a one-off fact
    assert "— →" not in text
    assert "1,500.00" in text  # the budget, grouped with two decimals


def test_a_drivers_history_shows_status_labels(world):
    from evdms.accounts.models import User
    from evdms.enrolment.models import Membership
    from evdms.enrolment.services import membership_approve

    connection = make_connection(world.org_a, provide_home_charger="no")
    dan = User.objects.create_user("dan@example.com", "dan's passphrase 1")
    membership = Membership.objects.create(
        connection=connection, organisation=world.org_a, driver=dan
    )
    membership_approve(actor=world.actor(world.nadia), membership=membership)
    page = client_for(world.nadia).get(reverse("enrolment:driver_detail", args=[membership.pk]))
    text = history(page.content.decode())
    assert "Request approved" in text and "membership.approve" not in text
    assert "Status: Pending → Connected" in text
