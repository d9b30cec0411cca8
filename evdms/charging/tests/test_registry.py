"""Registering chargers, and who sees which home sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.keyed_hash import Match
from evdms.accounts.models import Role, User
from evdms.charging.credentials import charger_password_match
from evdms.charging.models import Charger, ChargingSession
from evdms.charging.services import charger_register
from evdms.testing.fixtures import client_for, make_connection, make_membership

pytestmark = pytest.mark.django_db


def test_a_network_manager_registers_a_charger_and_sees_the_password_once(world):
    nadia = client_for(world.nadia)
    driver = User.objects.create_user("dan@example.com", "dan's long passphrase")
    make_membership(make_connection(world.org_a), driver)
    response = nadia.post(
        reverse("charging:charger_register"),
        {"identity": "HOME-9", "serial": "SN9", "driver": "dan@example.com"},
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    password = (
        response.content.decode()
        .split('id="new-password" class="secret" type="text" readonly value="')[1]
        .split('"')[0]
    )
    charger = Charger.objects.get()
    assert charger.driver == driver
    assert charger_password_match(password, charger.password_hash) is Match.YES
    assert password not in nadia.get(reverse("charging:chargers")).content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"identity": "", "serial": "S"}, "identity", "Use 1 to 48 letters"),
        ({"identity": "has space", "serial": "S"}, "identity", "Use 1 to 48 letters"),
        ({"identity": "OK-1", "serial": ""}, "serial", "This field is required."),
        (
            {"identity": "OK-1", "serial": "S", "driver": "ghost@example.com"},
            "driver",
            "None of your drivers has this e-mail address.",
        ),
    ],
)
def test_bad_registrations_are_explained(world, data, field, message):
    response = client_for(world.nadia).post(reverse("charging:charger_register"), data)
    assert response.status_code == 422 and message in response.content.decode()
    assert Charger.objects.count() == 0


def test_register_charger_command_prints_the_password(world, capsys):
    driver = User.objects.create_user("dan@example.com", "dan's long passphrase")
    make_membership(make_connection(world.org_a), driver)
    call_command(
        "register_charger",
        "CMD-1",
        "--serial",
        "SN-C",
        "--password",
        "Vx7-kQ2m_Rp9-Lw4zT",
        "--driver",
        "dan@example.com",
    )
    assert capsys.readouterr().out.strip() == "Vx7-kQ2m_Rp9-Lw4zT"
    charger = Charger.objects.get()
    assert charger.organisation == world.org_a and charger.driver == driver


def test_an_analyst_cannot_register_and_bob_cannot_see_voltlease_chargers(
    world, api_key_for, client
):
    charger, _ = charger_register(actor=None, organisation=world.org_a, identity="H-1", serial="S")
    assert (
        client_for(world.ana)
        .post(reverse("charging:charger_register"), {"identity": "X", "serial": "S"})
        .status_code
        == 403
    )
    assert (
        client_for(world.bob).get(reverse("charging:charger_detail", args=[charger.pk])).status_code
        == 404
    )
    assert client.get("/api/v1/chargers", headers=api_key_for(world.org_b)).json() == []


def test_registering_through_the_api(world, api_key_for, client):
    response = client.post(
        "/api/v1/chargers",
        data={"identity": "API-1", "serial": "SN"},
        content_type="application/json",
        headers=api_key_for(world.org_a),
    )
    assert response.status_code == 201
    assert len(response.json()["password"]) >= 16
    again = client.post(
        "/api/v1/chargers",
        data={"identity": "API-1", "serial": "SN"},
        content_type="application/json",
        headers=api_key_for(world.org_a, name="two"),
    )
    assert again.status_code == 422


@pytest.fixture
def two_drivers(world):
    """Sharing Sam's connection shares data; Private Pia's does not."""
    sharing = make_connection(world.org_a, name="Sharing", home_charging_data_sharing="yes")
    private = make_connection(world.org_a, name="Private")
    rows = {}
    for email, connection in (("sam@example.com", sharing), ("pia@example.com", private)):
        driver = User.objects.create_user(email, "a long passphrase 1")
        membership = make_membership(connection, driver)
        membership.connected_at = timezone.now() - timedelta(days=90)
        membership.save()
        charger, _ = charger_register(
            actor=None,
            organisation=world.org_a,
            identity=f"C-{email[:3]}",
            serial="S",
            driver=driver,
        )
        started = timezone.now() - timedelta(days=3)
        rows[email] = ChargingSession.objects.create(
            charger=charger,
            organisation_id=charger.organisation_id,
            driver=driver,
            connection=connection,
            transaction_id="1",
            started_at=started,
            ended_at=started + timedelta(hours=2),
            energy_wh=7250,
            status="completed",
        )
    return rows


def test_sessions_are_shown_in_detail_only_with_data_sharing(
    world, two_drivers, api_key_for, client
):
    body = client.get(
        "/api/v1/charging-sessions", headers=api_key_for(world.org_a, Role.ANALYST)
    ).json()
    assert [s["driver_email"] for s in body["items"]] == ["sam@example.com"]
    assert body["items"][0]["energy_wh"] == 7250 and body["items"][0]["duration_seconds"] == 7200
    page = client_for(world.ana).get(reverse("charging:sessions")).content.decode()
    assert "sam@example.com" in page  # in detail
    assert "pia@example.com" in page and "7.250" in page  # only per month
    assert page.count("pia@example.com") == 1


def test_sessions_filter_by_charger_driver_and_period(world, two_drivers, api_key_for, client):
    headers = api_key_for(world.org_a)
    assert (
        client.get("/api/v1/charging-sessions?charger=C-sam", headers=headers).json()["count"] == 1
    )
    assert (
        client.get("/api/v1/charging-sessions?driver=SAM@example.com", headers=headers).json()[
            "count"
        ]
        == 1
    )
    future = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert (
        client.get(f"/api/v1/charging-sessions?start={future}", headers=headers).json()["count"]
        == 0
    )
    inverted = client.get(
        "/api/v1/charging-sessions?start=2026-11-10T00:00:00Z&end=2026-11-01T00:00:00Z",
        headers=headers,
    )
    assert inverted.status_code == 422
    naive = client.get("/api/v1/charging-sessions?start=2026-11-01T00:00:00", headers=headers)
    assert naive.status_code == 422


def test_a_driver_always_sees_own_sessions(world, two_drivers):
    pia = User.objects.get(email="pia@example.com")
    from django.test import Client

    client = Client()
    client.force_login(pia, backend="evdms.accounts.backends.EmailBackend")
    page = client.get(reverse("charging:my_sessions")).content.decode()
    assert "7.250" in page and "C-pia" in page and "C-sam" not in page
