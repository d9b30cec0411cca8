"""POST tokens/{uid}/authorize: each outcome, over real HTTP from the simulator and with
raw requests for the exact HTTP and OCPI status codes; two queries per request."""

from __future__ import annotations

import pytest
from django.test import Client

from evdms.ocpi import schema
from evdms.ocpi.client import PeerError
from evdms.ocpi.tests.conftest import http
from evdms.ocpi.tests.test_tokens_list import registered_partner
from evdms.ocpi.tests.test_tokens_object import make_token, register
from evdms.ocpi.tokens import token_object
from evdms.public_charging.models import TokenBlock, TokenType


def authorize_url(platform: str, uid: str, query: str = "") -> str:
    return f"{platform}/ocpi/2.2.1/tokens/{uid}/authorize" + (f"?{query}" if query else "")


@pytest.mark.django_db(transaction=True)
def test_a_valid_card_is_allowed_at_the_location_asked(platform, cpo):
    register(cpo)
    card = make_token()
    location = {"location_id": "LOC1", "evse_uids": ["3256", "3257"]}

    info = cpo.authorize(card.uid, "RFID", location)

    assert schema.check(schema.AUTHORIZATION_INFO, info) == []
    assert info["allowed"] == "ALLOWED"
    assert info["token"] == token_object(card)
    assert info["location"] == location
    assert "info" not in info
    again = cpo.authorize(card.uid)  # type defaults to RFID; no body
    assert again["allowed"] == "ALLOWED" and "location" not in again
    for empty in (b"{}", b"null"):
        reply = http("POST", authorize_url(platform, card.uid), cpo.state.platform_token, raw=empty)
        assert reply.body["data"]["allowed"] == "ALLOWED" and "location" not in reply.body["data"]
    references = {info["authorization_reference"], again["authorization_reference"]}
    assert len(references) == 2 and all(len(r) <= 36 for r in references)


@pytest.mark.django_db(transaction=True)
def test_an_app_token_is_authorised_with_its_type(platform, cpo):
    register(cpo)
    app = make_token(type=TokenType.APP_USER)
    assert cpo.authorize(app.uid, "APP_USER")["allowed"] == "ALLOWED"
    # Without type= the spec means RFID: this uid is no RFID card of ours.
    reply = http("POST", authorize_url(platform, app.uid), cpo.state.platform_token)
    assert reply.status == 404 and reply.body["status_code"] == 2004
    assert "data" not in reply.body


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("valid", "blocked", "allowed", "text"),
    [
        (False, TokenBlock.LOST, "BLOCKED", "reported lost"),
        (False, TokenBlock.BLOCKED, "BLOCKED", "blocked by the driver's organisation"),
        # Blocked wins even if a stale valid flag said otherwise.
        (True, TokenBlock.BLOCKED, "BLOCKED", "blocked"),
        (False, TokenBlock.NONE, "NOT_ALLOWED", "not valid for public charging"),
    ],
)
def test_blocked_and_invalid_tokens(platform, cpo, valid, blocked, allowed, text):
    register(cpo)
    card = make_token(valid=valid, blocked=blocked)
    info = cpo.authorize(card.uid, "RFID", {"location_id": "LOC1"})
    assert schema.check(schema.AUTHORIZATION_INFO, info) == []
    assert info["allowed"] == allowed
    assert info["token"]["valid"] is False
    assert text in info["info"]["text"] and info["info"]["language"] == "en"
    assert "location" not in info  # only where the driver may charge


@pytest.mark.django_db(transaction=True)
def test_unknown_tokens_are_404_2004_and_bad_input_2001(platform, cpo):
    register(cpo)
    card = make_token()
    token = cpo.state.platform_token
    for uid in ("NOPE", "X" * 37):
        reply = http("POST", authorize_url(platform, uid), token)
        assert (reply.status, reply.body["status_code"]) == (404, 2004), uid
        assert "data" not in reply.body
    with pytest.raises(PeerError, match="404"):
        cpo.authorize("NOPE")
    reply = http("POST", authorize_url(platform, card.uid, "type=APP_USER"), token)
    assert (reply.status, reply.body["status_code"]) == (404, 2004)
    reply = http("POST", authorize_url(platform, card.uid, "type=CARD"), token)
    assert (reply.status, reply.body["status_code"]) == (400, 2001)
    assert "type must be one of" in reply.body["status_message"]
    for body, problem in [
        ({"location_id": "L" * 37}, "location_id: at most 36 characters"),
        ({"evse_uids": ["E1"]}, "location_id: required"),
        ({"location_id": "L1", "evse_uids": "E1"}, "evse_uids: must be a list"),
        ({"location_id": "L1", "evse_uids": ["E" * 37]}, "evse_uids[0]: at most 36"),
        ({"location_id": "L1", "evse_uids": [f"E{i}" for i in range(1001)]}, "at most 1000"),
        (["LOC1"], "must be an object"),
    ]:
        reply = http("POST", authorize_url(platform, card.uid), token, body)
        assert reply.body["status_code"] == 2001, body
        assert problem in reply.body["status_message"]
        assert "data" not in reply.body
    not_json = http("POST", authorize_url(platform, card.uid), token, raw=b"{location")
    assert (not_json.status, not_json.body["status_code"]) == (400, 2001)
    assert http("GET", authorize_url(platform, card.uid), token).status == 405


@pytest.mark.django_db(transaction=True)
def test_token_a_after_registration_cannot_authorise(platform, cpo):
    token_a = register(cpo)
    card = make_token()
    reply = http("POST", authorize_url(platform, card.uid), token_a)
    assert reply.status == 401 and reply.body["status_code"] == 2000
    assert "data" not in reply.body


@pytest.mark.django_db
def test_authorising_is_two_queries(django_assert_num_queries):
    _, header = registered_partner()
    card = make_token()
    client = Client(HTTP_AUTHORIZATION=header)
    # The partner's credentials token, then the token: nothing else, whatever the answer.
    with django_assert_num_queries(2):
        reply = client.post(
            f"/ocpi/2.2.1/tokens/{card.uid}/authorize?type=RFID",
            {"location_id": "LOC1"},
            content_type="application/json",
        )
    assert reply.json()["data"]["allowed"] == "ALLOWED"
    with django_assert_num_queries(2):
        missing = client.post("/ocpi/2.2.1/tokens/NOPE/authorize", content_type="application/json")
    assert missing.status_code == 404 and missing.json()["status_code"] == 2004


@pytest.mark.django_db(transaction=True)
def test_message_ids_are_echoed_and_routing_headers_answered(platform, cpo, settings):
    register(cpo)
    card = make_token()
    reply = http(
        "POST",
        authorize_url(platform, card.uid),
        cpo.state.platform_token,
        headers={
            "X-Request-ID": "req-42",
            "X-Correlation-ID": "corr-42",
            "OCPI-from-country-code": "NL",
            "OCPI-from-party-id": "SIM",
        },
    )
    assert reply.body["data"]["allowed"] == "ALLOWED"
    assert reply.headers["x-request-id"] == "req-42"
    assert reply.headers["x-correlation-id"] == "corr-42"
    assert (reply.headers["ocpi-to-country-code"], reply.headers["ocpi-to-party-id"]) == (
        "NL",
        "SIM",
    )
    assert reply.headers["ocpi-from-party-id"] == settings.OCPI_PARTY_ID
