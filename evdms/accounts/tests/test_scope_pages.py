"""What a grantee and a limited admin see on the pages that list things (the route tests
check single objects): only what their rights and connections reach.

Acme (a customer) has two connections, Acme_Fleet (Fiona's) and Acme_Office (Oscar's,
a pending request); Voltlease (A) has Voltlease_Home (Vera's, connected).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.urls import reverse

from evdms.accounts.models import GrantRight, OrganisationKind, User
from evdms.accounts.permissions import Actor
from evdms.connections.models import Connection
from evdms.reports.dashboard import dashboard_for
from evdms.testing.fixtures import (
    World,
    client_for,
    make_admin,
    make_connection,
    make_grant,
    make_home_session,
    make_membership,
    make_organisation,
)

pytestmark = pytest.mark.django_db


@dataclass
class Acme:
    world: World
    fleet: Connection
    office: Connection
    home: Connection


def _driver(connection: Connection, email: str, status: str = "connected") -> User:
    driver = User.objects.create_user(email, "a driver's passphrase 1", full_name=email[:5])
    make_membership(connection, driver, status)
    return driver


@pytest.fixture
def acme(world: World) -> Acme:
    org = make_organisation("acme", "Acme", OrganisationKind.CUSTOMER)
    make_admin(org, "alice@acme.example")
    fleet = make_connection(org, name="Acme_Fleet", home_charging_data_sharing="yes")
    office = make_connection(org, name="Acme_Office", home_charging_data_sharing="yes")
    home = make_connection(world.org_a, name="Voltlease_Home", home_charging_data_sharing="yes")
    make_home_session(fleet, _driver(fleet, "fiona@example.com"), 1_000)
    _driver(office, "oscar@example.com", "pending")
    make_home_session(home, _driver(home, "vera@example.com"), 20_000)
    return Acme(world, fleet, office, home)


def _text(client, name: str, **query: str) -> str:
    response = client.get(reverse(name), query)
    assert response.status_code == 200
    return response.content.decode()


def test_a_grantee_with_view_transactions_only_sees_the_report_but_no_drivers(acme: Acme):
    make_grant(acme.fleet.organisation, acme.world.org_a, rights=(GrantRight.VIEW_TRANSACTIONS,))
    nadia = client_for(acme.world.nadia)
    report = _text(nadia, "reports:transactions")
    assert "Acme_Fleet" in report and "Voltlease_Home" in report
    drivers = _text(nadia, "enrolment:drivers")
    assert "fiona@example.com" not in drivers and "vera@example.com" in drivers
    requests = _text(nadia, "enrolment:requests")
    assert "oscar@example.com" not in requests
    invite = reverse("enrolment:invite", args=[acme.fleet.pk])
    assert nadia.get(invite).status_code == 404


def test_a_grantee_with_invite_rights_only_sees_drivers_and_requests_but_no_transactions(
    acme: Acme,
):
    make_grant(
        acme.fleet.organisation,
        acme.world.org_a,
        rights=(GrantRight.MANAGE_DRIVERS,),
        connections=[acme.office],
    )
    nadia = client_for(acme.world.nadia)
    requests = _text(nadia, "enrolment:requests")
    assert "oscar@example.com" in requests
    drivers = _text(nadia, "enrolment:drivers")
    assert "fiona@example.com" not in drivers  # Acme_Fleet is not granted
    report = _text(nadia, "reports:transactions")
    assert "Acme_Office" not in report and "Acme_Fleet" not in report
    # The dashboard counts Oscar's request; no energy of Acme's connections.
    board = dashboard_for(Actor.for_user(acme.world.nadia.user))  # type: ignore[arg-type]
    assert board.pending == 1
    assert sum(board.energy_wh) == 20_000  # Voltlease_Home's alone
    office = next(c for c in board.per_connection if c.name == "Acme_Office")
    assert office.pending == 1 and office.energy_wh == 0


def test_a_limited_officer_sees_only_their_connections_and_cannot_create_one(acme: Acme):
    otto = acme.world.otto
    otto.all_connections = False
    otto.save(update_fields=["all_connections"])
    otto.connections.set([acme.home])
    client = client_for(otto)
    connections = _text(client, "connections:list")
    assert "Voltlease_Home" in connections and "Acme_Fleet" not in connections
    assert reverse("connections:new") not in connections
    refused = client.get(reverse("connections:new"))
    assert refused.status_code == 403
    assert "chosen connections only" in refused.content.decode()
    drivers = _text(client, "enrolment:drivers")
    assert "vera@example.com" in drivers
    # Another Voltlease connection, outside his scope, is missing for him.
    other = make_connection(acme.world.org_a, name="Voltlease_Other")
    _driver(other, "olga@example.com", "pending")
    assert "olga@example.com" not in _text(client, "enrolment:requests")
    page = client.get(reverse("connections:detail", args=[other.pk]))
    assert page.status_code == 404
    # The navigation's pending count is his connections' alone (none pending there).
    nav = client.get(reverse("web:dashboard")).context["nav_items"]
    assert next(i for i in nav if i["label"] == "Connection Requests")["count"] == 0


def test_a_limited_analyst_sees_no_invoices_and_only_their_sessions(acme: Acme):
    from decimal import Decimal

    from evdms.invoicing.models import InvoiceKind, LineSource
    from evdms.invoicing.services.issue import DraftLine, invoice_issue

    line = DraftLine(
        source=LineSource.DRIVER_FEE,
        description="Monthly fee",
        quantity=Decimal(1),
        unit_price=Decimal("5.00"),
    )
    invoice = invoice_issue(
        organisation=acme.world.org_a,
        kind=InvoiceKind.SERVICES,
        month=date(2026, 10, 1),
        lines=[line],
    )
    detail = reverse("invoicing:detail", args=[invoice.pk])
    assert client_for(acme.world.ana).get(detail).status_code == 200
    ana = acme.world.ana
    ana.all_connections = False
    ana.save(update_fields=["all_connections"])
    ana.connections.set([acme.home])
    client = client_for(ana)
    # An invoice covers every connection of the organisation: not for a limited admin.
    assert client.get(detail).status_code == 404
    assert invoice.number not in _text(client, "invoicing:list")
    report = _text(client, "reports:transactions")
    assert "Voltlease_Home" in report and "Acme_Fleet" not in report
