"""``/api/v1/charging-tokens``: the organisation's tokens, paged and filtered by driver;
issuing a card (422 field by field); block and unblock; another organisation's token
answers like a missing one."""

from __future__ import annotations

import pytest
from django.test import Client

from evdms.accounts.models import Role
from evdms.public_charging.contract_ids import is_valid
from evdms.public_charging.models import Token, TokenType
from evdms.public_charging.services import tokens
from evdms.public_charging.tests.test_tokens import connected, paying_connection, person

pytestmark = pytest.mark.django_db

URL = "/api/v1/charging-tokens"


@pytest.fixture
def drivers(world):
    public = paying_connection(world.org_a)
    dan, eva = person("dan@example.com", "Dan Driver"), person("eva@example.com", "Eva Elder")
    connected(world, public, dan)
    connected(world, public, eva)
    return dan, eva


def test_the_list_is_paged_and_filtered_by_driver(world, drivers, api_key_for):
    dan, eva = drivers
    headers = api_key_for(world.org_a, Role.CONNECTIONS_OFFICER)
    body = Client().get(URL, {"limit": 1}, headers=headers).json()
    assert body["count"] == 2 and len(body["items"]) == 1
    item = body["items"][0]
    assert item["driver"]["email"] == "dan@example.com" and item["type"] == "APP_USER"
    assert item["status"] == "Valid" and item["valid"] is True and is_valid(item["contract_id"])
    second = Client().get(URL, {"limit": 1, "offset": 1}, headers=headers).json()
    assert second["items"][0]["driver"]["email"] == "eva@example.com"
    by_name = Client().get(URL, {"driver": "elder"}, headers=headers).json()
    assert [i["driver"]["id"] for i in by_name["items"]] == [eva.pk]
    by_id = Client().get(URL, {"driver": str(dan.pk)}, headers=headers).json()
    assert [i["driver"]["id"] for i in by_id["items"]] == [dan.pk]


def test_bad_paging_and_a_long_filter_are_field_errors(world, drivers, api_key_for):
    headers = api_key_for(world.org_a)
    response = Client().get(URL, {"limit": 0}, headers=headers)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "limit"
    for driver in ("x" * 201, "dan\x00"):
        response = Client().get(URL, {"driver": driver}, headers=headers)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == [
            "query",
            "driver",
        ]
    response = Client().post(
        URL,
        {"driver_email": "dan@example.com\x00", "uid": "04A1B2C3"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "driver_email"]


def test_another_organisations_key_sees_none_of_the_tokens(world, drivers, api_key_for):
    body = Client().get(URL, headers=api_key_for(world.org_b)).json()
    assert body == {"count": 0, "items": []}


def test_issuing_a_card(world, drivers, api_key_for):
    response = Client().post(
        URL,
        {"driver_email": "eva@example.com", "uid": "04 a1 b2 c3", "visual_number": "C-2"},
        content_type="application/json",
        headers=api_key_for(world.org_a),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["uid"], body["visual_number"], body["status"]) == (
        "RFID",
        "04A1B2C3",
        "C-2",
        "Valid",
    )
    assert body["driver"]["email"] == "eva@example.com"
    assert Token.objects.get(pk=body["id"]).driver == drivers[1]


def test_issuing_with_bad_input_answers_422_field_by_field(world, drivers, api_key_for):
    response = Client().post(
        URL,
        {"driver_email": "nobody@example.com", "uid": "nothex", "visual_number": "x" * 65},
        content_type="application/json",
        headers=api_key_for(world.org_a),
    )
    assert response.status_code == 422
    fields = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
    assert fields == {
        ("body", "driver_email"): tokens.NO_DRIVER,
        ("body", "uid"): "Enter the card's uid: 4 to 36 hexadecimal characters (0–9, A–F).",
        ("body", "visual_number"): "Use at most 64 characters.",
    }
    assert not Token.objects.filter(type=TokenType.RFID).exists()


def test_a_key_of_another_organisation_cannot_issue_for_your_driver(world, drivers, api_key_for):
    response = Client().post(
        URL,
        {"driver_email": "dan@example.com", "uid": "04A1B2C3"},
        content_type="application/json",
        headers=api_key_for(world.org_b),
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == tokens.NO_DRIVER
    assert not Token.objects.filter(type=TokenType.RFID).exists()


def test_an_analyst_key_may_not_see_or_issue(world, drivers, api_key_for):
    headers = api_key_for(world.org_a, Role.ANALYST)
    assert Client().get(URL, headers=headers).status_code == 403
    response = Client().post(
        URL,
        {"driver_email": "dan@example.com", "uid": "04A1B2C3"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 403


def test_block_and_unblock(world, drivers, api_key_for):
    card = tokens.card_issue(
        actor=world.actor(world.nadia), membership=drivers[0].memberships.get(), uid="04A1B2C3"
    )
    headers = api_key_for(world.org_a)
    blocked = Client().post(f"{URL}/{card.pk}/block", headers=headers)
    assert blocked.status_code == 200
    assert (blocked.json()["status"], blocked.json()["valid"]) == ("Blocked", False)
    unblocked = Client().post(f"{URL}/{card.pk}/unblock", headers=headers).json()
    assert (unblocked["status"], unblocked["blocked"], unblocked["valid"]) == ("Valid", "", True)


def test_the_app_token_is_not_blocked_over_the_api(world, drivers, api_key_for):
    app = Token.objects.get(driver=drivers[0])
    response = Client().post(f"{URL}/{app.pk}/block", headers=api_key_for(world.org_a))
    assert response.status_code == 409
    app.refresh_from_db()
    assert app.valid and app.blocked == ""


def test_another_organisations_token_is_404_like_a_missing_one(world, drivers, api_key_for):
    card = tokens.card_issue(
        actor=world.actor(world.nadia), membership=drivers[0].memberships.get(), uid="04A1B2C3"
    )
    headers = api_key_for(world.org_b)
    for action in ("block", "unblock"):
        foreign = Client().post(f"{URL}/{card.pk}/{action}", headers=headers)
        missing = Client().post(f"{URL}/999999/{action}", headers=headers)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json() == missing.json()
    card.refresh_from_db()
    assert card.blocked == "" and card.valid
