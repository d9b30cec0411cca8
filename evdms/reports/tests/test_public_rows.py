"""Public sessions in the Detailed transaction report: their columns on the page, in
the files and over the API, the type filter, who sees what (a personal session shows no
place, operator or price to the organisation), credited sessions nowhere, tenancy.

The definition tests of test_transaction_row.py are run again here over a report that
has public rows, so every writer (SQLite's Python, PostgreSQL's COPY, XLSX, API, page)
is held to the same cells for them too."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from evdms.charging.models import ChargingSession
from evdms.charging.services.sessions import (
    PartnerRecord,
    public_session_credit,
    public_session_record,
)
from evdms.enrolment.models import Membership
from evdms.reports.tests import test_transaction_row as definition
from evdms.reports.tests.conftest import Fleet, at, on_statement
from evdms.reports.tests.test_exports import body
from evdms.reports.tests.test_transactions import API, URL, rows_of
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db
EXPORT = definition.EXPORT


def public(
    fleet: Fleet,
    driver_membership: Membership,
    started: datetime,
    wh: int,
    *,
    purpose: str = "business",
    location: str = "Stationsplein Fast Charge",
    operator: str = "Demo CPO",
    cost: str = "7.3450",
    key: str = "",
) -> ChargingSession:
    session = public_session_record(
        PartnerRecord(
            key=key or f"NL*DCP*{driver_membership.driver_id}-{started.isoformat()}",
            organisation_id=driver_membership.organisation_id,
            driver_id=driver_membership.driver_id,
            transaction_id=f"S{wh}",
            started_at=started,
            ended_at=started + timedelta(minutes=40),
            energy_wh=wh,
            completed=True,
            final=True,
            operator=operator,
            location_name=location,
            location_address="Stationsplein 1, Amsterdam, NLD",
            cost_excl_vat=(Decimal(cost) / Decimal("1.21")).quantize(Decimal("0.0001")),
            cost_incl_vat=Decimal(cost),
            currency="EUR",
        )
    )
    ChargingSession.objects.filter(pk=session.pk).update(purpose=purpose)
    session.refresh_from_db()
    return session


def _members_since_long_ago(fleet: Fleet) -> None:
    Membership.objects.update(connected_at=timezone.now() - timedelta(days=800))


@pytest.fixture
def mixed(fleet: Fleet) -> Fleet:
    """The definition tests' two home sessions, and Dan's public sessions: a business one,
    a personal one and a credited one."""
    # test_transaction_row.py's ``two``: Dan's first answer is a formula, his session is
    # on a statement; Eve's is not.
    Membership.objects.filter(pk=fleet.dan_membership.pk).update(verification_1="=1+1")
    dan = fleet.session(fleet.dan, fleet.acme, at(3, hour=21, minute=5), 12_345, minutes=95)
    on_statement(dan, driver_price="0.3100", cap="0.2900")
    fleet.session(fleet.eve, fleet.globex, at(4, hour=8), 2_000, minutes=30)
    _members_since_long_ago(fleet)
    public(fleet, fleet.dan_membership, at(5, hour=10), 22_222, cost="9.8765")
    public(
        fleet,
        fleet.dan_membership,
        at(6, hour=11),
        3_333,
        purpose="personal",
        location="Hidden Lane 3",
        operator="Secret Charge",
    )
    credited = public(fleet, fleet.dan_membership, at(7, hour=12), 4_444, location="Cancelled")
    public_session_credit(key=credited.public_key, reason="credit CDR")
    return fleet


def test_public_rows_show_type_location_operator_cost_and_purpose(mixed: Fleet):
    html = client_for(mixed.world.ana).get(URL, {"sort": "started"}).content.decode()
    rows = rows_of(html)
    assert [r[10] for r in rows] == ["12.345", "2.000", "22.222", "3.333"]  # no credited
    business, personal = rows[2], rows[3]
    assert business[4] == "Acme_Home"
    assert business[7:10] == ["Public", "Stationsplein Fast Charge", "Demo CPO"]
    assert business[14:19] == ["8.16", "9.88", "Business", "EUR", "—"]
    assert business[12:14] == ["—", "—"]  # home cost and reimbursement: not a home session
    # Personal: that it happened, by whom and how much energy; not where or at what price.
    assert personal[1] == "Dan Driver dan@example.com" and personal[10] == "3.333"
    assert personal[7:10] == ["Public", "—", "—"]
    assert personal[14:17] == ["—", "—", "Personal"]
    assert "Hidden Lane" not in html and "Secret Charge" not in html
    assert "Cancelled" not in html


@pytest.mark.parametrize(
    ("kind", "energies"),
    [("home", ["12.345", "2.000"]), ("public", ["22.222", "3.333"]), ("", None)],
)
def test_the_type_filter(mixed: Fleet, kind: str, energies: list[str] | None):
    html = client_for(mixed.world.ana).get(URL, {"type": kind, "sort": "started"}).content.decode()
    shown = [r[10] for r in rows_of(html)]
    assert shown == (energies or ["12.345", "2.000", "22.222", "3.333"])


def test_public_sessions_of_a_connection_without_data_sharing_show(fleet: Fleet):
    """Home Charging Data Sharing is about home sessions; the organisation pays (or
    sees that its driver had) the public ones."""
    _members_since_long_ago(fleet)
    private = Membership.objects.create(
        connection=fleet.private,
        organisation=fleet.private.organisation,
        driver=fleet.rob,  # any person; a driver of Private_Home here
        status="connected",
        connected_at=timezone.now() - timedelta(days=800),
    )
    public(fleet, private, at(5), 5_555)
    fleet.session(fleet.rob, fleet.private, at(6), 6_666)  # home, not shared: not listed
    rows = rows_of(client_for(fleet.world.nadia).get(URL).content.decode())
    assert [(r[4], r[7], r[10]) for r in rows] == [("Private_Home", "Public", "5.555")]


def test_an_organisation_never_sees_another_ones_public_sessions(fleet: Fleet, client, api_key_for):
    _members_since_long_ago(fleet)
    rob = Membership.objects.get(driver=fleet.rob)
    public(fleet, rob, at(5), 5_555, location="Rival Plaza")
    public(fleet, fleet.dan_membership, at(6), 6_666)
    mine = client_for(fleet.world.nadia).get(URL).content.decode()
    theirs = client_for(fleet.world.bob).get(URL).content.decode()
    assert [r[10] for r in rows_of(mine)] == ["6.666"] and "Rival Plaza" not in mine
    assert [r[10] for r in rows_of(theirs)] == ["5.555"]
    api = client.get(API, {"type": "public"}, headers=api_key_for(fleet.world.org_a)).json()
    assert [i["energy_wh"] for i in api["items"]] == [6_666]
    data = body(client_for(fleet.world.nadia).post(EXPORT, {"format": "csv"}))
    assert b"Rival Plaza" not in data and b"6.666" in data


def test_the_csv_and_xlsx_files_have_the_public_rows(mixed: Fleet):
    data = body(client_for(mixed.world.ana).post(EXPORT, {"format": "csv", "sort": "started"}))
    _, *rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    business, personal = rows[2], rows[3]
    assert business[8:12] == ["Public", "Stationsplein Fast Charge", "Demo CPO", "22.222"]
    assert business[15:19] == ["8.16", "9.88", "Business", "EUR"]
    assert personal[8:12] == ["Public", "", "", "3.333"]
    assert personal[15:19] == ["", "", "Personal", "EUR"]
    assert b"Hidden Lane" not in data and b"Cancelled" not in data


def test_the_api_items_have_the_public_fields(mixed: Fleet, client, api_key_for):
    items = client.get(
        API, {"type": "public", "sort": "started"}, headers=api_key_for(mixed.world.org_a)
    ).json()["items"]
    business, personal = items
    assert (business["type"], business["charger"], business["operator"]) == (
        "Public",
        "Stationsplein Fast Charge",
        "Demo CPO",
    )
    assert (business["cost_excl_vat"], business["cost_incl_vat"], business["currency"]) == (
        "8.16",
        "9.88",
        "EUR",
    )
    assert business["purpose"] == "Business"
    assert (personal["charger"], personal["operator"], personal["cost_incl_vat"]) == ("", "", None)


# --- every writer, the same cells, with public rows ----------------------------------


def test_the_csv_file_is_the_definitions_rows(mixed: Fleet, monkeypatch):
    definition.test_the_csv_file_is_the_definitions_rows(mixed, monkeypatch)


def test_the_xlsx_file_is_the_definitions_rows(mixed: Fleet):
    definition.test_the_xlsx_file_is_the_definitions_rows(mixed)


def test_the_api_items_are_the_definitions_rows(mixed: Fleet, client, api_key_for):
    definition.test_the_api_items_are_the_definitions_rows(mixed, client, api_key_for)


@pytest.mark.parametrize("kind", ["", "public"])
def test_the_page_makes_the_same_number_of_queries_for_few_or_many_public_sessions(
    fleet: Fleet, kind: str
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _members_since_long_ago(fleet)
    client = client_for(fleet.world.nadia)
    public(fleet, fleet.dan_membership, at(1), 1_000)
    with CaptureQueriesContext(connection) as few:
        client.get(URL, {"type": kind})
    for day in range(2, 60):
        public(
            fleet,
            fleet.dan_membership,
            at(day % 28 + 1, hour=day % 24),
            1_000 + day,
            purpose="personal" if day % 3 else "business",
        )
        fleet.session(fleet.dan, fleet.acme, at(day % 28 + 1, hour=day % 24), 1_000)
    with CaptureQueriesContext(connection) as many:
        client.get(URL, {"type": kind})
    assert len(few) == len(many)
