"""Public sessions over GET /api/v1/charging-sessions."""

from __future__ import annotations

import pytest

from evdms.charging.models import Charger, ChargingSession
from evdms.charging.services.sessions import public_session_credit
from evdms.public_charging.services.purpose import session_purpose_set
from evdms.public_charging.tests.sessions_fixtures import PublicWorld, at, make_public_world
from evdms.testing.fixtures import World

URL = "/api/v1/charging-sessions"


@pytest.fixture
def public_world(world: World) -> PublicWorld:
    return make_public_world(world)


def _home(pw: PublicWorld) -> ChargingSession:
    charger = Charger.objects.create(
        organisation=pw.world.org_a,
        identity="HOME-DAN",
        serial="S1",
        password_hash="-",
        driver=pw.dan,
    )
    return ChargingSession.objects.create(
        charger=charger,
        organisation=pw.world.org_a,
        driver=pw.dan,
        connection=pw.acme,
        transaction_id="H1",
        started_at=at(4),
        ended_at=at(4, hour=16),
        energy_wh=8000,
        status="completed",
    )


def test_public_sessions_with_place_operator_and_cost_as_strings(
    public_world: PublicWorld, client, api_key_for
):
    session = public_world.public(public_world.dan, at(3), wh=12_345, cost="7.3450")
    _home(public_world)
    answer = client.get(URL, {"type": "public"}, headers=api_key_for(public_world.world.org_a))
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item == {
        **item,
        "id": session.pk,
        "kind": "public",
        "charger": None,
        "driver_email": "dan@example.com",
        "connection_id": public_world.acme.pk,
        "energy_wh": 12_345,
        "duration_seconds": 45 * 60,
        "status": "completed",
        "location_name": "Stationsplein Fast Charge",
        "location_address": "Stationsplein 1, 1012 AB Amsterdam, NLD",
        "operator": "Demo CPO",
        "cost_excl_vat": "6.0702",
        "cost_incl_vat": "7.3450",
        "currency": "EUR",
        "purpose": "business",
    }


def test_type_home_public_or_both(public_world: PublicWorld, client, api_key_for):
    public = public_world.public(public_world.dan, at(3))
    home = _home(public_world)
    headers = api_key_for(public_world.world.org_a)

    def ids(**params: str) -> list[int]:
        return [i["id"] for i in client.get(URL, params, headers=headers).json()["items"]]

    assert ids(type="home") == [home.pk]
    assert ids(type="public") == [public.pk]
    assert sorted(ids()) == sorted([home.pk, public.pk])
    home_item = client.get(URL, {"type": "home"}, headers=headers).json()["items"][0]
    assert home_item["kind"] == "home" and home_item["purpose"] is None
    assert home_item["location_name"] is None and home_item["cost_incl_vat"] is None


def test_an_unknown_type_is_a_field_error(public_world: PublicWorld, client, api_key_for):
    answer = client.get(URL, {"type": "roaming"}, headers=api_key_for(public_world.world.org_a))
    assert answer.status_code == 422
    assert any(e["loc"][-1] == "type" for e in answer.json()["detail"])


def test_a_personal_session_shows_no_place_operator_or_cost(
    public_world: PublicWorld, client, api_key_for
):
    session = public_world.public(public_world.dan, at(3))
    session_purpose_set(driver=public_world.dan, session=session, purpose="personal")
    headers = api_key_for(public_world.world.org_a)
    item = client.get(URL, {"type": "public"}, headers=headers).json()["items"][0]
    assert item["purpose"] == "personal"
    assert item["energy_wh"] == 12_345 and item["driver_email"] == "dan@example.com"
    for hidden in (
        "location_name",
        "location_address",
        "operator",
        "cost_excl_vat",
        "cost_incl_vat",
        "currency",
    ):
        assert item[hidden] is None, hidden
    assert "Stationsplein" not in client.get(URL, headers=headers).content.decode()


def test_a_credited_session_says_so(public_world: PublicWorld, client, api_key_for):
    session = public_world.public(public_world.dan, at(3))
    public_session_credit(key=session.public_key, reason="credit CDR")
    item = client.get(
        URL, {"type": "public"}, headers=api_key_for(public_world.world.org_a)
    ).json()["items"][0]
    assert item["status"] == "credited"


def test_an_organisation_never_sees_another_ones_public_sessions(
    public_world: PublicWorld, client, api_key_for
):
    mine = public_world.public(public_world.dan, at(3))
    theirs = public_world.public(public_world.rob, at(3), location="Rival Plaza")
    headers = api_key_for(public_world.world.org_a)
    a = client.get(URL, {"type": "public"}, headers=headers).json()
    b = client.get(URL, {"type": "public"}, headers=api_key_for(public_world.world.org_b)).json()
    assert [i["id"] for i in a["items"]] == [mine.pk]
    assert [i["id"] for i in b["items"]] == [theirs.pk]
    by_driver = client.get(
        URL,
        {"type": "public", "driver": "rob@example.com"},
        headers=headers,
    ).json()
    assert by_driver["count"] == 0
