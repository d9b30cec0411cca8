"""The driver's public charging page: live and past sessions, cost, purpose."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from evdms.charging.services.sessions import public_session_credit
from evdms.public_charging.tests.sessions_fixtures import (
    PublicWorld,
    at,
    driver_client,
    invoiced_line,
    make_public_world,
)
from evdms.testing.fixtures import World, client_for

URL = "/my/public-charging/"


@pytest.fixture
def public_world(world: World) -> PublicWorld:
    return make_public_world(world)


def test_the_driver_sees_live_and_past_sessions_with_place_operator_energy_and_cost(
    public_world: PublicWorld,
):
    public_world.public(public_world.dan, at(3), wh=12_345, minutes=45, cost="7.3450")
    public_world.public(
        public_world.dan,
        timezone.now() - timedelta(minutes=20),
        final=False,
        location="Museumplein",
        address="Museumplein 10, Amsterdam, NLD",
    )
    page = driver_client(public_world.dan).get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    live, past = text.split("Charging now")[1].split("Past sessions")
    assert "Museumplein" in live and "charging" in live and "Stationsplein" not in live
    assert "Stationsplein Fast Charge" in past
    assert "Stationsplein 1, 1012 AB Amsterdam, NLD" in past
    assert "Demo CPO" in past
    assert "12.345" in past  # kWh
    assert "0:45:00" in past
    assert "€7.35" in past  # half-up to the cent
    assert 'value="business" checked' in past


def test_a_personal_session_is_to_be_settled_by_the_driver(public_world: PublicWorld):
    public_world.public(public_world.eve, at(3))
    text = driver_client(public_world.eve).get(URL).content.decode()
    assert 'value="personal" checked' in text
    assert "To be settled by you" in text


def test_a_credited_session_says_so_and_offers_no_purpose(public_world: PublicWorld):
    session = public_world.public(public_world.dan, at(3))
    public_session_credit(key=session.public_key, reason="credit CDR")
    text = driver_client(public_world.dan).get(URL).content.decode()
    assert "Credited by the operator" in text
    assert f"/my/public-charging/{session.pk}/purpose/" not in text


def test_the_driver_marks_a_session_personal(public_world: PublicWorld):
    session = public_world.public(public_world.dan, at(3))
    client = driver_client(public_world.dan)
    answer = client.post(f"{URL}{session.pk}/purpose/", {"purpose": "personal"})
    assert answer.status_code == 302
    session.refresh_from_db()
    assert session.purpose == "personal"
    text = client.get(URL).content.decode()
    assert "The session is marked personal." in text
    assert "To be settled by you" in text


def test_after_the_invoice_the_page_says_why_the_purpose_stays(public_world: PublicWorld):
    session = public_world.public(public_world.dan, at(3))
    client = driver_client(public_world.dan)
    invoiced_line(session)
    text = client.get(URL).content.decode()
    assert "(invoiced)" in text
    assert f"{URL}{session.pk}/purpose/" not in text
    answer = client.post(f"{URL}{session.pk}/purpose/", {"purpose": "personal"})
    assert answer.status_code == 400
    assert "The invoice for this month has been made" in answer.content.decode()
    session.refresh_from_db()
    assert session.purpose == "business"


def test_a_bad_purpose_gets_a_message_not_a_500(public_world: PublicWorld):
    session = public_world.public(public_world.dan, at(3))
    answer = driver_client(public_world.dan).post(f"{URL}{session.pk}/purpose/", {"purpose": "x"})
    assert answer.status_code == 400
    assert "Choose Business or Personal." in answer.content.decode()


def test_another_drivers_session_is_a_404_and_never_listed(public_world: PublicWorld):
    robs = public_world.public(public_world.rob, at(3), location="Rival Plaza")
    client = driver_client(public_world.dan)
    assert "Rival Plaza" not in client.get(URL).content.decode()
    assert client.post(f"{URL}{robs.pk}/purpose/", {"purpose": "personal"}).status_code == 404
    assert client.post(f"{URL}999999/purpose/", {"purpose": "personal"}).status_code == 404
    # An admin of Rob's own organisation cannot mark it either: the mark is the driver's.
    bob = client_for(public_world.world.bob)
    assert bob.post(f"{URL}{robs.pk}/purpose/", {"purpose": "personal"}).status_code == 404
    robs.refresh_from_db()
    assert robs.purpose == "business"


def test_the_month_filter(public_world: PublicWorld):
    public_world.public(public_world.dan, at(3, month=1), location="January Hub")
    public_world.public(public_world.dan, at(3, month=2), location="February Hub")
    client = driver_client(public_world.dan)
    month = at(3, month=1).strftime("%Y-%m")
    text = client.get(URL, {"month": month}).content.decode()
    assert "January Hub" in text and "February Hub" not in text
    assert f'value="{month}" selected' in text
    text = client.get(URL, {"month": "13-2026"}).content.decode()
    assert "is not a month" in text
    assert "January Hub" in text and "February Hub" in text


def test_the_driver_navigation_offers_the_page(public_world: PublicWorld):
    text = driver_client(public_world.dan).get("/my/charging/").content.decode()
    assert f'href="{URL}"' in text


def test_the_home_charging_page_lists_no_public_sessions(public_world: PublicWorld):
    public_world.public(public_world.dan, at(3), location="Stationsplein Fast Charge")
    text = driver_client(public_world.dan).get("/my/charging/").content.decode()
    assert "No sessions yet." in text
