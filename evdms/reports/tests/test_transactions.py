"""The Detailed transaction report: rows, filters, order, paging and bad input, on the
page and over the API."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from evdms.accounts.models import Role
from evdms.enrolment.models import Membership
from evdms.reports.tests.conftest import Fleet, at, on_statement
from evdms.testing.fixtures import client_for, make_membership

pytestmark = pytest.mark.django_db
URL = reverse("reports:transactions")
API = "/api/v1/reports/transactions"


def rows_of(html: str) -> list[list[str]]:
    """The report table's body rows as lists of cell texts."""
    body = html.split('<table class="report">')[1].split("<tbody>")[1].split("</tbody>")[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        if len(cells) > 1:  # not the "No transactions match." line
            rows.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells])
    return rows


def test_a_row_shows_everything_the_reference_report_has(fleet: Fleet):
    session = fleet.session(fleet.dan, fleet.acme, at(3, hour=21, minute=5), 12_345, minutes=95)
    statement = on_statement(session, driver_price="0.3100", cap="0.2900")
    html = client_for(fleet.world.ana).get(URL).content.decode()
    [row] = rows_of(html)
    assert row == [
        "3 Oct 2026 21:05",
        "Dan Driver dan@example.com",
        "E-100",
        "AB-12-CD",
        "Acme_Home",
        "CRM-1",
        "Voltlease",
        "Home",
        f"HOME-{fleet.dan.pk}",
        "—",  # operator: public sessions only
        "12.345",
        "1:35:00",
        "3.83",  # 12.345 kWh × 0.31 = 3.82695 → 3.83 (what the energy cost Dan)
        "3.58",  # 12.345 kWh × 0.29 (the cap) = 3.58005 → 3.58
        "—",  # cost excl. VAT: public sessions only
        "—",  # cost incl. VAT
        "—",  # purpose
        "EUR",
        statement.reference,
    ]


def test_a_session_not_yet_on_a_statement_has_no_cost_or_reference(fleet: Fleet):
    fleet.session(fleet.dan, fleet.acme, at(3), 5_000)
    [row] = rows_of(client_for(fleet.world.nadia).get(URL).content.decode())
    assert row[12:19] == ["—", "—", "—", "—", "—", "EUR", "—"]


def test_without_data_sharing_sessions_are_not_listed_and_the_page_says_why(fleet: Fleet):
    fleet.session(fleet.eve, fleet.private, at(4), 7_000)
    fleet.session(fleet.eve, fleet.globex, at(5), 8_000)
    html = client_for(fleet.world.nadia).get(URL).content.decode()
    assert [r[4] for r in rows_of(html)] == ["Globex_Home"]
    assert "1 connection without Home Charging Data Sharing" in html


def test_another_organisations_sessions_never_show(fleet: Fleet):
    fleet.session(fleet.rob, fleet.rival, at(4), 7_000)
    fleet.session(fleet.dan, fleet.acme, at(5), 8_000)
    mine = rows_of(client_for(fleet.world.nadia).get(URL).content.decode())
    theirs = rows_of(client_for(fleet.world.bob).get(URL).content.decode())
    assert [r[1] for r in mine] == ["Dan Driver dan@example.com"]
    assert [r[1] for r in theirs] == ["Rob Rival rob@example.com"]


def test_a_driver_moved_between_connections_keeps_each_sessions_connection(fleet: Fleet):
    """Revise Benefits: sessions before the move stay under the old connection with the
    old membership's answers; later ones are under the new connection."""
    fleet.session(fleet.dan, fleet.acme, at(2), 1_000)
    Membership.objects.filter(pk=fleet.dan_membership.pk).update(status="removed")
    moved = make_membership(fleet.globex, fleet.dan)
    Membership.objects.filter(pk=moved.pk).update(
        moved_from=fleet.dan_membership, verification_1="E-200"
    )
    fleet.session(fleet.dan, fleet.globex, at(20), 2_000)
    rows = rows_of(client_for(fleet.world.ana).get(URL + "?sort=started").content.decode())
    assert [(r[4], r[5], r[2], r[10]) for r in rows] == [
        ("Acme_Home", "CRM-1", "E-100", "1.000"),
        ("Globex_Home", "CRM-2", "E-200", "2.000"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"customer_id": "CRM-1"}, ["1.000", "3.000"]),
        ({"customer_id": "CRM-2"}, ["2.000"]),
        ({"customer_id": "crm-2"}, ["2.000"]),  # any case
        ({"driver": "e-100"}, ["1.000", "3.000"]),  # verification answer, any case
        ({"driver": "ellis"}, ["2.000"]),  # name
        ({"start": "2026-10-02", "end": "2026-10-02"}, ["2.000"]),  # one whole local day
        ({"start": "2026-10-03"}, ["3.000"]),
        ({"type": "home"}, ["1.000", "2.000", "3.000"]),
        ({"type": "public"}, []),  # public sessions: evdms/reports/tests/test_public_rows.py
    ],
)
def test_filters(fleet: Fleet, params, expected):
    fleet.session(fleet.dan, fleet.acme, at(1, hour=23, minute=30), 1_000)
    fleet.session(fleet.eve, fleet.globex, at(2, hour=0, minute=10), 2_000)
    fleet.session(fleet.dan, fleet.acme, at(3, hour=0, minute=0), 3_000)
    html = client_for(fleet.world.nadia).get(URL, {**params, "sort": "energy"}).content.decode()
    assert [r[10] for r in rows_of(html)] == expected


def test_the_connection_filter_and_sorting_by_each_column(fleet: Fleet):
    fleet.session(fleet.dan, fleet.acme, at(1), 3_000, minutes=10)
    fleet.session(fleet.eve, fleet.globex, at(2), 1_000, minutes=300)
    fleet.session(fleet.dan, fleet.acme, at(3), 2_000, minutes=60)
    client = client_for(fleet.world.nadia)
    only = rows_of(client.get(URL, {"connection": fleet.globex.pk}).content.decode())
    assert [r[10] for r in only] == ["1.000"]
    energy = lambda sort: [r[10] for r in rows_of(client.get(URL, {"sort": sort}).content.decode())]  # noqa: E731
    assert energy("energy") == ["1.000", "2.000", "3.000"]
    assert energy("-energy") == ["3.000", "2.000", "1.000"]
    assert energy("duration") == ["3.000", "2.000", "1.000"]
    assert energy("started") == ["3.000", "1.000", "2.000"]
    assert energy("-started") == ["2.000", "1.000", "3.000"]
    assert energy("driver") == ["3.000", "2.000", "1.000"]  # Dan, Dan (ties in order made), Eve
    for key in (
        "verification_1",
        "verification_2",
        "connection",
        "customer_id",
        "organisation",
        "charger",
        "cost",
        "reimbursed",
        "currency",
        "reference",
        "-cost",
    ):
        response = client.get(URL, {"sort": key})
        assert response.status_code == 200 and "Cannot sort" not in response.content.decode()
        assert len(rows_of(response.content.decode())) == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "password"}, "Cannot sort by “password”; sorted by date/time, newest first."),
        ({"start": "2026-10-31", "end": "2026-10-01"}, "The period ends before it starts"),
        ({"start": "yesterday"}, "The from date “yesterday” is not a date"),
        ({"type": "boat"}, "Unknown type “boat”"),
        ({"connection": "abc"}, "Unknown connection"),
        ({"customer_id": "CRM-999"}, "No connection has the Customer ID “CRM-999”"),
    ],
)
def test_bad_filters_are_explained_never_a_500(fleet: Fleet, params, message):
    fleet.session(fleet.dan, fleet.acme, at(5), 1_000)
    response = client_for(fleet.world.nadia).get(URL, params)
    assert response.status_code == 200 and message in response.content.decode()


def test_inverted_periods_are_swapped_and_a_huge_page_shows_the_last(fleet: Fleet):
    fleet.session(fleet.dan, fleet.acme, at(5), 1_000)
    client = client_for(fleet.world.nadia)
    swapped = client.get(URL, {"start": "2026-10-31", "end": "2026-10-01"}).content.decode()
    assert [r[10] for r in rows_of(swapped)] == ["1.000"]
    huge = client.get(URL, {"page": "99999999999999999999"})
    assert huge.status_code == 200 and len(rows_of(huge.content.decode())) == 1


def test_another_organisations_connection_reads_like_a_missing_one(fleet: Fleet):
    fleet.session(fleet.dan, fleet.acme, at(5), 1_000)
    client = client_for(fleet.world.nadia)
    foreign = client.get(URL, {"connection": fleet.rival.pk}).content.decode()
    missing = client.get(URL, {"connection": 987654}).content.decode()
    assert "Unknown connection" in foreign and "Unknown connection" in missing
    assert rows_of(foreign) == rows_of(missing)


def test_the_page_makes_the_same_number_of_queries_for_3_or_117_sessions(fleet: Fleet):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(fleet.world.nadia)
    for day in range(1, 4):
        fleet.session(fleet.dan, fleet.acme, at(day), 1_000)
    with CaptureQueriesContext(connection) as few:
        client.get(URL, {"customer_id": "CRM-1"})
    for day in range(1, 58):
        fleet.session(fleet.eve, fleet.globex, at(day % 28 + 1, hour=day % 24), 1_000)
        fleet.session(fleet.dan, fleet.acme, at(day % 28 + 1, hour=day % 24), 1_000)
    with CaptureQueriesContext(connection) as many:
        client.get(URL, {"customer_id": "CRM-1"})
    assert len(few) == len(many)


def test_the_api_gives_the_same_rows_paged(fleet: Fleet, client, api_key_for):
    first = fleet.session(fleet.dan, fleet.acme, at(3), 12_345)
    statement = on_statement(first, driver_price="0.31", cap="0.29")
    fleet.session(fleet.eve, fleet.globex, at(4), 2_000)
    headers = api_key_for(fleet.world.org_a, Role.ANALYST)
    page = client.get(API, {"limit": 1, "sort": "started"}, headers=headers).json()
    assert page["count"] == 2 and len(page["items"]) == 1
    item = page["items"][0]
    assert item["driver_email"] == "dan@example.com" and item["customer_id"] == "CRM-1"
    assert item["verification_1"] == "E-100" and item["energy_wh"] == 12_345
    assert item["cost"] == "3.83" and item["reimbursed"] == "3.58"
    assert item["reference"] == statement.reference and item["type"] == "Home"
    second = client.get(API, {"limit": 1, "offset": 1, "sort": "started"}, headers=headers)
    assert second.json()["items"][0]["driver_email"] == "eve@example.com"
    for far in (10**6, 10**20):
        beyond = client.get(API, {"offset": far}, headers=headers)
        assert beyond.status_code == 200
        assert beyond.json()["count"] == 2 and beyond.json()["items"] == []
    filtered = client.get(API, {"customer_id": "CRM-2"}, headers=headers).json()
    assert [i["connection"] for i in filtered["items"]] == ["Globex_Home"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "nope"}, "sort"),
        ({"start": "2026-13-01"}, "start"),
        ({"start": "2026-10-31", "end": "2026-10-01"}, "end"),
        ({"type": "boat"}, "type"),
        ({"connection": "x"}, "connection"),
        ({"limit": 0}, "limit"),
    ],
)
def test_the_api_refuses_bad_filters_by_field(fleet: Fleet, client, api_key_for, params, field):
    response = client.get(API, params, headers=api_key_for(fleet.world.org_a))
    assert response.status_code == 422
    assert [d["loc"][-1] for d in response.json()["detail"]] == [field]


def test_the_api_answers_a_foreign_connection_like_a_missing_one(fleet: Fleet, client, api_key_for):
    headers = api_key_for(fleet.world.org_a)
    foreign = client.get(API, {"connection": fleet.rival.pk}, headers=headers)
    missing = client.get(API, {"connection": 987654}, headers=headers)
    assert foreign.status_code == missing.status_code == 422
    assert foreign.json() == missing.json()
