"""The Token object we send (list, authorize, pushes): shaped like the spec's examples
and conforming to every field rule of the spec's Token object. Also the helpers the
other ``test_tokens_*`` files share (tokens made directly, a registered simulator)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings

from evdms.accounts.models import User
from evdms.ocpi import party, schema
from evdms.ocpi.services import partner_add
from evdms.ocpi.simulator import SimulatedCpo
from evdms.ocpi.tests.conftest import example
from evdms.ocpi.tokens import token_object
from evdms.public_charging.models import Token, TokenBlock, TokenType
from evdms.testing.fixtures import make_organisation

_numbers = itertools.count(1)


def make_token(
    *,
    type: str = TokenType.RFID,
    uid: str | None = None,
    valid: bool = True,
    blocked: str = TokenBlock.NONE,
    visual_number: str | None = None,
    last_updated: datetime | None = None,
    organisation: Any = None,
    driver: User | None = None,
) -> Token:
    n = next(_numbers)
    organisation = organisation or make_organisation(f"org-{n}", f"Organisation {n}")
    driver = driver or User.objects.create(email=f"driver{n}@example.com", full_name="Driver")
    extra = {"last_updated": last_updated} if last_updated else {}
    return Token.objects.create(
        organisation=organisation,
        driver=driver,
        type=type,
        uid=uid or f"{'APP' if type == TokenType.APP_USER else 'RF'}{n:010d}",
        contract_id=f"NL-EVD-C{n:08d}-X",
        visual_number=(
            visual_number
            if visual_number is not None
            else ("" if type == TokenType.APP_USER else f"EVD-{n:06d}")
        ),
        valid=valid,
        blocked=blocked,
        **extra,
    )


def register(cpo: SimulatedCpo) -> str:
    """The simulator registered with the platform (it learns our endpoints, we learn
    its Tokens Receiver); returns the token A it used (no longer valid after)."""
    _, token_a = partner_add(name=cpo.name)
    cpo.register_with(party.versions_url(), token_a)
    return token_a


pytestmark = pytest.mark.django_db


def test_an_app_token_has_the_keys_of_the_spec_app_user_example():
    token = make_token(type=TokenType.APP_USER, uid="bdf21bce-fc97-11e8-8eb2-f2801f1b9fd1")
    data = token_object(token)
    assert set(data) == set(example("token_example_1_app_user.json"))
    assert data["type"] == "APP_USER" and data["uid"] == token.uid
    assert schema.check(schema.TOKEN, data) == []


def test_an_rfid_card_carries_its_visual_number_and_our_party():
    token = make_token(
        visual_number="DF000-2001-8999-1",
        last_updated=datetime(2026, 3, 1, 12, 30, 5, 250_000, tzinfo=UTC),
    )
    data = token_object(token)
    assert data == {
        "country_code": settings.OCPI_COUNTRY_CODE,
        "party_id": settings.OCPI_PARTY_ID,
        "uid": token.uid,
        "type": "RFID",
        "contract_id": token.contract_id,
        "visual_number": "DF000-2001-8999-1",
        "issuer": settings.OCPI_BUSINESS_NAME,
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2026-03-01T12:30:05.250Z",
    }
    # Every key we send is one the spec's full RFID example has too.
    assert set(data) <= set(example("token_example_2_full_rfid.json"))
    assert schema.check(schema.TOKEN, data) == []


def test_a_blocked_or_invalid_token_is_sent_with_valid_false():
    assert token_object(make_token(valid=True, blocked=TokenBlock.LOST))["valid"] is False
    assert token_object(make_token(valid=False))["valid"] is False


def test_a_long_business_name_is_cut_to_the_issuer_limit(settings):
    settings.OCPI_BUSINESS_NAME = "B" * 100
    data = token_object(make_token())
    assert data["issuer"] == "B" * 64
    assert schema.check(schema.TOKEN, data) == []


@pytest.mark.parametrize(
    "name",
    ["token_example_1_app_user.json", "token_example_2_full_rfid.json", "token_put_example.json"],
)
def test_the_spec_token_examples_conform_to_our_rules(name):
    assert schema.check(schema.TOKEN, example(name)) == []


def test_the_spec_get_token_answers_conform_to_our_rules():
    single = example("transport_and_format_get_token_example.json")
    assert schema.check(schema.TOKEN, single["data"]) == []
    listed = example("transport_and_format_get_token_list_example.json")
    assert [schema.check(schema.TOKEN, t) for t in listed["data"]] == [[], [], []]


GOOD = example("token_example_2_full_rfid.json")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("country_code", "NLD", "country_code: at most 2 characters"),
        ("party_id", "EVDX", "party_id: at most 3 characters"),
        ("uid", "U" * 37, "uid: at most 36 characters"),
        ("uid", "caf\u00e9", "uid: only printable ASCII"),
        ("type", "CARD", "type: must be one of AD_HOC_USER, APP_USER, OTHER, RFID"),
        ("contract_id", "C" * 37, "contract_id: at most 36 characters"),
        ("visual_number", "V" * 65, "visual_number: at most 64 characters"),
        ("issuer", "I" * 65, "issuer: at most 64 characters"),
        ("group_id", "G" * 37, "group_id: at most 36 characters"),
        ("valid", "true", "valid: must be true or false"),
        ("whitelist", "SOMETIMES", "whitelist: must be one of"),
        ("language", "ita", "language: at most 2 characters"),
        ("default_profile_type", "SLOW", "default_profile_type: must be one of"),
        ("energy_contract", {"contract_id": "1"}, "energy_contract.supplier_name: required"),
        ("last_updated", "2018-12-10T17:25:10+00:00", "last_updated: must be an RFC 3339"),
    ],
)
def test_every_token_field_rule_is_checked(field, value, problem):
    assert schema.check(schema.TOKEN, GOOD) == []
    problems = schema.check(schema.TOKEN, {**GOOD, field: value})
    assert len(problems) == 1 and problems[0].startswith(problem)


@pytest.mark.parametrize(
    "field",
    [
        "country_code",
        "party_id",
        "uid",
        "type",
        "contract_id",
        "issuer",
        "valid",
        "whitelist",
        "last_updated",
    ],
)
def test_every_required_token_field_is_required(field):
    body = {k: v for k, v in GOOD.items() if k != field}
    assert schema.check(schema.TOKEN, body) == [f"{field}: required"]


def test_authorization_info_rules():
    info = {"allowed": "ALLOWED", "token": GOOD, "authorization_reference": "r" * 36}
    assert schema.check(schema.AUTHORIZATION_INFO, info) == []
    assert schema.check(schema.AUTHORIZATION_INFO, {**info, "allowed": "MAYBE"})[0].startswith(
        "allowed: must be one of"
    )
    assert schema.check(
        schema.AUTHORIZATION_INFO, {**info, "authorization_reference": "r" * 37}
    ) == ["authorization_reference: at most 36 characters"]
    assert schema.check(
        schema.AUTHORIZATION_INFO, {**info, "info": {"language": "en", "text": "t" * 513}}
    ) == ["info.text: at most 512 characters"]
    assert schema.check(schema.AUTHORIZATION_INFO, {**info, "location": {"evse_uids": ["E1"]}}) == [
        "location.location_id: required"
    ]
    assert schema.check(schema.AUTHORIZATION_INFO, {"token": GOOD}) == ["allowed: required"]
