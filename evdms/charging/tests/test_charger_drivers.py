"""A charger is linked only to a driver of an organisation the actor acts for, and its
sessions go only to a membership of the charger's organisation.

Dora is a driver of Rival Lease only; Voltlease must not be able to link her to a
charger, through the API, the page or the command, nor learn that she exists.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.charging.models import Charger, ChargingSession
from evdms.charging.ocpp.handlers_v16 import start_transaction_v16
from evdms.charging.services import charger_register
from evdms.testing.fixtures import (
    client_for,
    make_connection,
    make_grant,
    make_membership,
    make_organisation,
)

pytestmark = pytest.mark.django_db

GHOST = "ghost@example.com"


@pytest.fixture
def dora(world):
    dora = User.objects.create_user("dora@example.com", "dora's long passphrase")
    make_membership(make_connection(world.org_b, name="Rival_Home"), dora)
    return dora


def api_register(client, headers, identity: str, email: str):
    return client.post(
        "/api/v1/chargers",
        data={"identity": identity, "serial": "SN", "driver_email": email},
        content_type="application/json",
        headers=headers,
    )


def test_the_api_answers_a_foreign_driver_exactly_like_an_unknown_address(
    world, dora, api_key_for, client
):
    headers = api_key_for(world.org_a)
    foreign = api_register(client, headers, "API-1", "Dora@Example.com")
    unknown = api_register(client, headers, "API-1", GHOST)

    assert foreign.status_code == unknown.status_code == 422
    assert foreign.json() == unknown.json()
    assert foreign.json()["detail"] == [
        {
            "loc": ["body", "driver_email"],
            "msg": "None of your drivers has this e-mail address.",
            "type": "value_error",
        }
    ]
    assert not Charger.objects.exists()


def error_texts(html: str) -> list[str]:
    return re.findall(r'<p class="error">([^<]*)</p>', html)


def test_the_page_answers_a_foreign_driver_exactly_like_an_unknown_address(world, dora):
    nadia = client_for(world.nadia)
    answers = [
        nadia.post(
            reverse("charging:charger_register"),
            {"identity": "PAGE-1", "serial": "SN", "driver": email},
        )
        for email in (dora.email, GHOST)
    ]

    assert [a.status_code for a in answers] == [422, 422]
    foreign, unknown = (error_texts(a.content.decode()) for a in answers)
    assert foreign == unknown == ["None of your drivers has this e-mail address."]
    assert not Charger.objects.exists()


def test_linking_an_existing_charger_to_a_foreign_driver_is_refused(world, dora):
    charger, _ = charger_register(actor=None, organisation=world.org_a, identity="H-1", serial="S")
    nadia = client_for(world.nadia)
    for email in (dora.email, GHOST):
        page = nadia.post(
            reverse("charging:charger_link", args=[charger.pk]), {"driver": email}, follow=True
        ).content.decode()
        assert "None of your drivers has this e-mail address." in page
    charger.refresh_from_db()
    assert charger.driver is None


def test_the_command_refuses_a_driver_of_another_organisation_as_an_unknown_one(world, dora):
    messages = []
    for email in (dora.email, GHOST):
        with pytest.raises(CommandError) as refused:
            call_command(
                "register_charger",
                "CMD-1",
                "--serial",
                "SN",
                "--organisation",
                "voltlease",
                "--driver",
                email,
            )
        messages.append(str(refused.value).replace(email, "…"))
    assert messages[0] == messages[1]
    assert "None of your drivers has this e-mail address." in messages[0]
    assert not Charger.objects.exists()


def test_the_simulator_refuses_to_link_a_driver_of_another_organisation(world, dora):
    with pytest.raises(CommandError, match="None of your drivers has this e-mail address"):
        call_command("simulate_chargers", "--register", "voltlease", "--driver", dora.email)
    assert not Charger.objects.exists()


def test_a_driver_of_a_granting_organisation_gets_a_charger_of_that_organisation(
    world, api_key_for, client
):
    customer = make_organisation("acme", "Acme")
    make_grant(grantor=customer, grantee=world.org_a)
    carl = User.objects.create_user("carl@acme.example", "carl's long passphrase")
    make_membership(make_connection(customer, name="Acme_Home"), carl)

    response = api_register(client, api_key_for(world.org_a), "ACME-1", carl.email)

    assert response.status_code == 201 and response.json()["driver_email"] == carl.email
    charger = Charger.objects.get()
    assert (charger.organisation, charger.driver) == (customer, carl)
    assert [
        c["identity"] for c in client.get("/api/v1/chargers", headers=api_key_for(customer)).json()
    ] == ["ACME-1"]


@pytest.fixture
def two_memberships(world):
    """Dan is a driver of Voltlease and, since later, also of Rival Lease; his home
    charger is Voltlease's."""
    dan = User.objects.create_user("dan@example.com", "dan's long passphrase")
    voltlease = make_membership(make_connection(world.org_a, name="Volt_Home"), dan)
    rival = make_membership(make_connection(world.org_b, name="Rival_Home"), dan)
    voltlease.connected_at = timezone.now() - timedelta(days=60)
    voltlease.save()
    rival.connected_at = timezone.now() - timedelta(days=10)
    rival.save()
    charger, _ = charger_register(
        actor=None,
        organisation=world.org_a,
        identity="HOME-A",
        serial="S",
        driver=dan,
    )
    return {"dan": dan, "voltlease": voltlease, "rival": rival, "charger": charger}


def start_session(charger: Charger) -> ChargingSession:
    transaction_id = start_transaction_v16(
        charger.pk, 1, "TAG", 1_000, timezone.now() - timedelta(hours=1)
    )
    return ChargingSession.objects.get(pk=transaction_id)


def test_a_session_goes_to_the_membership_of_the_chargers_organisation_only(world, two_memberships):

    session = start_session(two_memberships["charger"])

    assert session.connection == two_memberships["voltlease"].connection


def test_a_session_of_a_driver_without_a_membership_of_the_chargers_organisation_goes_nowhere(
    world, two_memberships
):
    # Dan's place at Voltlease has ended; the charger is still linked to him.
    voltlease = two_memberships["voltlease"]
    voltlease.status, voltlease.ended_at = "removed", timezone.now() - timedelta(days=5)
    voltlease.save()

    session = start_session(two_memberships["charger"])

    assert session.connection is None  # never Rival Lease's connection
