"""The dashboard: figures, monthly charts and figures per connection."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

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
    assert "<title>Oct 2026: €3.48</title>" in html  # a bar's amount reads as money does
    assert "<title>Oct 2026: 12 kWh</title>" in html  # energy keeps its unit after it
    assert "<td>October 2026</td>" in html  # the table beside the chart
    assert "Acme_Home" in html and "CRM-1" in html
    assert f"{reverse('reports:transactions')}?connection={fleet.acme.pk}" in html


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


def _many_sessions(fleet: Fleet, count: int) -> None:
    """``count`` completed sessions, home and public, over twelve months and both of
    Voltlease's sharing connections, and a statement a month."""
    from evdms.charging.models import ChargingSession
    from evdms.reimbursements.models import Statement

    rows = [
        ChargingSession(
            organisation=fleet.world.org_a,
            connection=fleet.acme if i % 2 else fleet.globex,
            driver=fleet.dan,
            kind="public" if i % 3 == 0 else "home",
            public_key=f"NL*TST*{count}-{i}",
            transaction_id=str(i),
            started_at=at(1 + i % 28, month=1 + i % 11),
            energy_wh=1_000 + i,
            status="completed",
            purpose="business" if i % 3 == 0 else "",
            cost_incl_vat=Decimal("1.2345") if i % 3 == 0 else None,
            currency="EUR",
        )
        for i in range(count)
    ]
    ChargingSession.objects.bulk_create(rows, batch_size=500)
    Statement.objects.filter(driver=fleet.dan).delete()
    Statement.objects.bulk_create(
        Statement(
            driver=fleet.dan,
            connection=fleet.acme,
            month=date(2026, month, 1),
            currency="EUR",
            total=Decimal("10.00"),
            status="ready",
        )
        for month in range(1, 12)
    )


# The log-in (session, user, two-factor device), the actor's grants (read for each
# scope: 4), connections, memberships, chargers, monthly figures, admins (2), API keys,
# installations (2), the navigation's pending requests: none of them per session.
DASHBOARD_QUERIES = 17


@pytest.mark.parametrize("sessions", [10, 1_000])
def test_the_dashboard_makes_a_fixed_number_of_queries_with_10_or_1000_sessions(
    fleet: Fleet, django_assert_num_queries, sessions
):
    _many_sessions(fleet, sessions)
    client = client_for(fleet.world.nadia)
    client.get(URL)  # the first request of a session reads a few things once
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get(URL)
    assert response.status_code == 200
    board = response.context["board"]
    assert sum(board.energy_wh) + sum(board.public_energy_wh) == sum(
        1_000 + i for i in range(sessions)
    )


def test_the_figures_are_those_of_the_sessions_and_statements(fleet: Fleet):
    from evdms.charging.models import ChargingSession

    _many_sessions(fleet, 300)
    board = dashboard_for(fleet.world.actor(fleet.world.nadia), today=date(2026, 11, 25))
    for month, home, public_wh in zip(
        board.months, board.energy_wh, board.public_energy_wh, strict=True
    ):
        in_month = [
            s
            for s in ChargingSession.objects.all()
            if s.started_at and timezone.localtime(s.started_at).date().replace(day=1) == month
        ]
        assert home == sum(s.energy_wh for s in in_month if s.kind == "home")
        assert public_wh == sum(s.energy_wh for s in in_month if s.kind == "public")
        business = sum(s.cost_incl_vat or 0 for s in in_month if s.kind == "public")
        assert board.public_cost["EUR"][board.months.index(month)] == Decimal(business).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
    assert board.reimbursed["EUR"] == [Decimal(0)] + [Decimal("10.00")] * 11


def test_another_organisations_figures_never_appear(fleet: Fleet):
    from evdms.reports.tests.test_public_rows import _members_since_long_ago, public

    _members_since_long_ago(fleet)
    on_statement(fleet.session(fleet.rob, fleet.rival, at(5, month=10), 99_000), "1", "1")
    rival = Membership.objects.get(driver=fleet.rob)
    public(fleet, rival, at(7, month=10), 77_000, cost="99")
    fleet.session(fleet.dan, fleet.acme, at(3, month=10), 1_000)
    ours = dashboard_for(fleet.world.actor(fleet.world.nadia), today=date(2026, 11, 25))
    assert (sum(ours.energy_wh), sum(ours.public_energy_wh)) == (1_000, 0)
    assert ours.reimbursed == {} and ours.public_cost == {}
    assert "Rival_Home" not in {c.name for c in ours.per_connection}
    html = client_for(fleet.world.nadia).get(URL).content.decode()
    assert "Rival_Home" not in html and "99,000" not in html and "99.00" not in html
    theirs = dashboard_for(fleet.world.actor(fleet.world.bob), today=date(2026, 11, 25))
    assert (sum(theirs.energy_wh), sum(theirs.public_energy_wh)) == (99_000, 77_000)
    assert [c.name for c in theirs.per_connection] == ["Rival_Home"]


def test_a_limited_admin_sees_the_figures_of_their_connections_only(fleet: Fleet):
    fleet.session(fleet.dan, fleet.acme, at(3, month=10), 1_000)
    on_statement(fleet.session(fleet.eve, fleet.globex, at(4, month=10), 2_000), "1", "1")
    ana = fleet.world.ana
    ana.all_connections = False
    ana.save(update_fields=["all_connections"])
    ana.connections.set([fleet.acme])
    board = dashboard_for(fleet.world.actor(ana), today=date(2026, 11, 25))
    assert [c.name for c in board.per_connection] == ["Acme_Home"]
    assert board.energy_wh[-2] == 1_000 and board.reimbursed == {}
    html = client_for(ana).get(URL).content.decode()
    assert "Globex_Home" not in html


def test_home_and_public_side_by_side_per_month(fleet: Fleet):
    from evdms.reports.tests.test_public_rows import _members_since_long_ago, public

    _members_since_long_ago(fleet)
    on_statement(fleet.session(fleet.dan, fleet.acme, at(3, month=10), 10_000), "0.30", "0.29")
    public(fleet, fleet.dan_membership, at(4, month=10), 2_000, cost="5.005")
    html = client_for(fleet.world.ana).get(URL).content.decode()
    assert "Home and public charging per month" in html
    section = html.split('id="home-public-heading"', 1)[1]
    row = section.split(">October 2026</td>", 1)[1].split("</tr>", 1)[0]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[:-1]] == [
        "10.000",
        "2.000",
        "2.90",
        "5.01",
    ]


def test_the_per_connection_rows_escape_what_organisations_wrote(fleet: Fleet):
    """The rows are made in Python (evdms/web/dashboard_rows.py), not by the template:
    names and Customer IDs are escaped all the same, and each cell reads as before."""
    fleet.acme.name = '<b>Walk & Co\'s</b> "Home"'
    fleet.acme.customer_id = "<i>CRM-1</i>"
    fleet.acme.save(update_fields=["name", "customer_id"])
    on_statement(fleet.session(fleet.dan, fleet.acme, at(4, month=10), 12_000), "0.30", "0.29")
    html = client_for(fleet.world.ana).get(URL).content.decode()
    assert "<b>Walk" not in html and "<i>CRM-1</i>" not in html
    row = html[html.index("&lt;b&gt;Walk &amp; Co&#x27;s&lt;/b&gt; &quot;Home&quot;") :]
    row = row[: row.index("</tr>")]
    assert "&lt;i&gt;CRM-1&lt;/i&gt;" in row
    assert '<td class="num">1</td><td class="num">0</td>' in row  # connected, pending
    assert '<td class="num">12.000</td>' in row  # home energy, kWh
    assert "€3.48" in row  # reimbursed
    assert f'href="{reverse("reports:transactions")}?connection={fleet.acme.pk}"' in row
