"""The dashboard: figures, monthly charts and figures per connection."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evdms.charging.models import Charger
from evdms.enrolment.models import Membership
from evdms.reports.dashboard import dashboard_for, last_months
from evdms.reports.tests.conftest import Fleet, at, on_statement
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db
URL = reverse("web:dashboard")


def test_last_months_run_over_the_new_year():
    months = last_months(date(2026, 2, 14))
    assert len(months) == 12 and months[0] == date(2025, 3, 1) and months[-1] == date(2026, 2, 1)


def test_monthly_energy_and_reimbursed_amounts_per_organisation_and_connection(fleet: Fleet):
    on_statement(fleet.session(fleet.dan, fleet.acme, at(3, month=9), 10_000), "0.30", "0.29")
    on_statement(fleet.session(fleet.dan, fleet.acme, at(4, month=10), 2_500), "0.30", "0.29")
    fleet.session(fleet.eve, fleet.private, at(5, month=10), 1_000)  # no sharing: still a total
    fleet.session(fleet.rob, fleet.rival, at(5, month=10), 99_000)  # another organisation
    Membership.objects.create(
        connection=fleet.globex,
        organisation=fleet.world.org_a,
        driver=fleet.rob,
        status="pending",
    )
    Charger.objects.filter(driver=fleet.dan).update(online=True)
    board = dashboard_for(fleet.world.actor(fleet.world.nadia), today=date(2026, 11, 25))
    assert board.months[-3:] == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert board.energy_wh[-3:] == [10_000, 3_500, 0]
    assert board.reimbursed == {"EUR": [Decimal(0)] * 9 + [Decimal("2.90"), Decimal("0.73"), 0]}
    assert (board.connected, board.pending) == (2, 1)
    assert (board.chargers_online, board.chargers) == (1, 2)
    acme = next(c for c in board.per_connection if c.name == "Acme_Home")
    assert acme.connected == 1 and acme.energy_wh == 12_500
    assert acme.reimbursed == {"EUR": Decimal("3.63")}


def test_the_dashboard_page_shows_charts_with_their_figures(fleet: Fleet):
    on_statement(fleet.session(fleet.dan, fleet.acme, at(4, month=10), 12_000), "0.30", "0.29")
    html = client_for(fleet.world.ana).get(URL).content.decode()
    assert (
        '<svg class="chart"' in html and 'aria-label="Home charging energy per month (kWh)"' in html
    )
    assert "Reimbursed home charging per month (EUR)" in html
    assert "<td>October 2026</td>" in html  # the table beside the chart
    assert "Acme_Home" in html and "CRM-1" in html
    assert f"{reverse('reports:transactions')}?connection={fleet.acme.pk}" in html


def test_the_dashboard_groups_every_number_one_way(fleet: Fleet):
    """Energy and amounts in the tables, the chart's labels and the per-connection
    figures read as on every other page: "10,429.451" beside "3,024.54", never
    "10429.451" beside "2,981"."""
    statement = on_statement(
        fleet.session(fleet.dan, fleet.acme, at(4, month=10), 10_429_451), "0.30", "0.29"
    )
    assert statement.total == Decimal("3024.54")
    html = client_for(fleet.world.ana).get(URL).content.decode()
    assert "10429.451" not in html and "3024.54" not in html
    assert '<td class="num">10,429.451</td>' in html  # the month's energy beside the chart
    assert '<td class="num">3,024.54</td>' in html  # the month's reimbursed amount
    assert "EUR 3,024.54" in html  # per connection
    assert "Oct 26: 10,429 kWh" in html  # the bar's own label


def test_a_connections_officer_sees_counts_but_no_report_charts(fleet: Fleet):
    html = client_for(fleet.world.otto).get(URL).content.decode()
    assert "Connected drivers" in html and "Chargers online" in html
    assert '<svg class="chart"' not in html and "Per connection" not in html
    assert reverse("enrolment:requests") in html  # pending requests link for who can act


def test_an_analyst_sees_pending_requests_without_a_link_to_act_on_them(fleet: Fleet):
    html = client_for(fleet.world.ana).get(URL).content.decode()
    assert "Pending requests" in html and reverse("enrolment:requests") not in html


def test_the_dashboard_makes_the_same_number_of_queries_whatever_the_data(fleet: Fleet):
    client = client_for(fleet.world.nadia)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for month in range(1, 12):
        on_statement(fleet.session(fleet.dan, fleet.acme, at(2, month=month), 1_000), "1", "1")
        fleet.session(fleet.eve, fleet.globex, at(3, month=month), 1_000)
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(few) == len(many)


def test_public_charging_beside_home_charging_per_month(fleet: Fleet):
    from evdms.charging.services.sessions import public_session_credit
    from evdms.reports.tests.test_public_rows import _members_since_long_ago, public

    _members_since_long_ago(fleet)
    fleet.session(fleet.dan, fleet.acme, at(3, month=10), 10_000)
    public(fleet, fleet.dan_membership, at(4, month=10), 2_000, cost="5.005")
    public(fleet, fleet.dan_membership, at(5, month=10), 3_000, cost="4.00", purpose="personal")
    credited = public(fleet, fleet.dan_membership, at(6, month=10), 9_000, cost="50")
    public_session_credit(key=credited.public_key, reason="credit CDR")
    public(fleet, fleet.dan_membership, at(7, month=9), 1_000, cost="1.004")
    rival = Membership.objects.get(driver=fleet.rob)
    public(fleet, rival, at(7, month=10), 77_000, cost="99")  # another organisation
    board = dashboard_for(fleet.world.actor(fleet.world.nadia), today=date(2026, 11, 25))
    assert board.energy_wh[-3:] == [0, 10_000, 0]  # home only
    assert board.public_energy_wh[-3:] == [1_000, 5_000, 0]  # business and personal
    # What the organisation pays: business sessions, incl. VAT, to the cent.
    assert board.public_cost == {"EUR": [Decimal(0)] * 9 + [Decimal("1.00"), Decimal("5.01"), 0]}
    acme = next(c for c in board.per_connection if c.name == "Acme_Home")
    assert (acme.energy_wh, acme.public_energy_wh) == (10_000, 6_000)
    html = client_for(fleet.world.ana).get(URL).content.decode()
    assert 'aria-label="Public charging energy per month (kWh)"' in html
    assert "Business public charging per month (EUR, incl. VAT)" in html
