"""GET tokens (our Sender interface): the simulator pulls the list over real HTTP,
pages with the spec's headers, date filters (from inclusive, to exclusive) kept in the
``Link``, and a fixed number of queries whatever the page or the table size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from evdms.accounts.keyed_hash import keyed_hash
from evdms.ocpi import schema
from evdms.ocpi.models import Partner, PartnerStatus
from evdms.ocpi.tests.conftest import http
from evdms.ocpi.tests.test_tokens_object import make_token, register
from evdms.ocpi.transport import TOKEN_C_PURPOSE, authorization_header
from evdms.public_charging.models import Token

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def five_tokens() -> list[Token]:
    return [make_token(last_updated=T0 + timedelta(hours=h)) for h in range(5)]


@pytest.mark.django_db(transaction=True)
def test_the_simulator_pulls_every_page_and_our_details_list_the_module(platform, cpo):
    register(cpo)
    assert {"identifier": "tokens", "role": "SENDER", "url": f"{platform}/ocpi/2.2.1/tokens"} in (
        cpo.state.platform_endpoints
    )
    made = five_tokens()
    url = f"{platform}/ocpi/2.2.1/tokens?limit=2"
    cpo_pulled = []
    next_url: str | None = url
    while next_url:
        data, headers = cpo.get_page(next_url)
        cpo_pulled.append((len(data), headers["x-total-count"], headers["x-limit"]))
        cpo_pulled_tokens = data
        link = headers.get("link", "")
        next_url = link[1 : link.index(">")] if link else None
    assert cpo_pulled == [(2, "5", "2"), (2, "5", "2"), (1, "5", "2")]
    assert cpo_pulled_tokens[0]["uid"] == made[4].uid

    pulled = cpo.pull_tokens()
    assert [t["uid"] for t in pulled] == [t.uid for t in made]  # oldest change first
    assert all(schema.check(schema.TOKEN, t) == [] for t in pulled)


@pytest.mark.django_db(transaction=True)
def test_date_from_is_inclusive_date_to_exclusive_and_the_link_keeps_them(platform, cpo):
    register(cpo)
    made = five_tokens()
    date_from, date_to = "2026-01-01T01:00:00Z", "2026-01-01T04:00:00Z"
    reply = http(
        "GET",
        f"{platform}/ocpi/2.2.1/tokens?date_from={date_from}&date_to={date_to}&limit=2",
        cpo.state.platform_token,
    )
    assert reply.status == 200 and reply.body["status_code"] == 1000
    assert [t["uid"] for t in reply.body["data"]] == [made[1].uid, made[2].uid]
    assert reply.headers["x-total-count"] == "3" and reply.headers["x-limit"] == "2"
    link = reply.headers["link"]
    assert link.endswith('>; rel="next"')
    query = parse_qs(urlsplit(link[1 : link.index(">")]).query)
    assert query == {
        "offset": ["2"],
        "limit": ["2"],
        "date_from": [date_from],
        "date_to": [date_to],
    }
    last = cpo.pull_tokens(date_from=date_from, date_to=date_to)
    assert [t["uid"] for t in last] == [made[1].uid, made[2].uid, made[3].uid]
    assert "link" not in cpo.pages[-1]


@pytest.mark.django_db(transaction=True)
def test_bad_parameters_are_2001_and_token_a_after_registration_is_401(platform, cpo):
    token_a = register(cpo)
    url = f"{platform}/ocpi/2.2.1/tokens"
    for query in (
        "limit=ten",
        "offset=-1",
        "date_from=yesterday",
        "date_to=2026-01-01T00:00+01:00",
    ):
        reply = http("GET", f"{url}?{query}", cpo.state.platform_token)
        assert (reply.status, reply.body["status_code"]) == (400, 2001), query
        assert "data" not in reply.body
    refused = http("GET", url, token_a)
    assert refused.status == 401 and refused.body["status_code"] == 2000
    assert http("GET", url, "not-a-token").status == 401
    assert http("GET", url).status == 401
    # Only GET on the list.
    assert http("PUT", url, cpo.state.platform_token, {}).status == 405


def registered_partner(token: str = "partner-token-c") -> tuple[Partner, str]:
    partner = Partner.objects.create(
        name="CPO",
        status=PartnerStatus.REGISTERED,
        token_c_hash=keyed_hash(token, purpose=TOKEN_C_PURPOSE),
        # Seen just now: the request does not also write last_traffic_at.
        last_traffic_at=datetime.now(tz=UTC),
    )
    return partner, authorization_header(token)


@pytest.mark.django_db
def test_a_page_costs_the_same_queries_whatever_the_page_or_table_size(
    django_assert_num_queries,
):
    _, header = registered_partner()
    client = Client(HTTP_AUTHORIZATION=header)
    for _ in range(3):
        make_token()
    # The partner's token, the count, the page.
    with django_assert_num_queries(3):
        small = client.get("/ocpi/2.2.1/tokens?limit=2")
    assert len(small.json()["data"]) == 2
    organisation = Token.objects.first().organisation  # type: ignore[union-attr]
    for _ in range(150):
        make_token(organisation=organisation)
    with django_assert_num_queries(3):
        big = client.get("/ocpi/2.2.1/tokens?limit=100")
    assert len(big.json()["data"]) == 100 and big["X-Total-Count"] == "153"
    with django_assert_num_queries(3):
        late = client.get("/ocpi/2.2.1/tokens?offset=150&limit=100")
    assert len(late.json()["data"]) == 3 and "Link" not in late
    with django_assert_num_queries(3):
        filtered = client.get(
            "/ocpi/2.2.1/tokens?date_from=2000-01-01T00:00:00Z&date_to=2100-01-01T00:00:00Z"
        )
    assert filtered["X-Total-Count"] == "153"


@pytest.mark.django_db
def test_a_limit_above_the_maximum_is_capped_and_said_in_x_limit():
    _, header = registered_partner()
    make_token()
    reply = Client(HTTP_AUTHORIZATION=header).get("/ocpi/2.2.1/tokens?limit=50000")
    assert reply["X-Limit"] == "1000" and reply["X-Total-Count"] == "1"


@pytest.mark.django_db(transaction=True)
def test_simulate_cpo_registers_pulls_and_authorises(platform):
    import io

    from django.core.management import call_command

    from evdms.ocpi import party
    from evdms.ocpi.services import partner_add
    from evdms.public_charging.models import TokenBlock

    valid, lost = make_token(), make_token(valid=False, blocked=TokenBlock.LOST)
    _, token_a = partner_add(name="Command CPO")
    out = io.StringIO()
    call_command(
        "simulate_cpo",
        "--register",
        party.versions_url(),
        "--token",
        token_a,
        "--pull-tokens",
        "--authorize",
        valid.uid,
        "--authorize",
        f"{lost.uid}:RFID",
        "--authorize",
        "NOPE",
        "--exit",
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("registered; token C: ")
    assert lines[1] == "pulled 2 tokens (1 valid) in 1 page(s)"
    assert lines[2].startswith(f"authorize {valid.uid}: ALLOWED (reference ")
    assert lines[3].startswith(f"authorize {lost.uid}: BLOCKED")
    assert lines[4].startswith("authorize NOPE: refused (") and "2004" in lines[4]


@pytest.mark.django_db
def test_every_partner_sees_the_same_list_of_our_tokens():
    _, first = registered_partner("first-partner-token")
    _, second = registered_partner("second-partner-token")
    made = [make_token(), make_token()]
    seen = [
        [t["uid"] for t in Client(HTTP_AUTHORIZATION=h).get("/ocpi/2.2.1/tokens").json()["data"]]
        for h in (first, second)
    ]
    assert seen == [[t.uid for t in made]] * 2
