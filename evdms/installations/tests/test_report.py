"""The Home Charger Installation Report page: rows, filters, sorting, paging, who may
read it, tenancy, and a fixed number of queries for a page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.installations.report import (
    PAGE_SIZE,
    installations_count,
    installations_slice,
    parse_installation_query,
)
from evdms.installations.tests.report_fixtures import (  # noqa: F401
    Jobs,
    driver,
    jobs_fixture,
)
from evdms.testing.fixtures import client_for, make_connection
from evdms.testing.installations import make_job

pytestmark = pytest.mark.django_db
REPORT = reverse("installations:report")


def drivers_listed(html: str) -> list[str]:
    """The drivers of the report's rows, in order."""
    return re.findall(r'<td>([^<]+)<br><span class="muted">[^<]+@example\.com</span>', html)


def page(client: Client, **params: str) -> str:
    response = client.get(REPORT, params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_report_lists_every_job_of_the_organisation_newest_first(jobs: Jobs):
    html = page(client_for(jobs.world.nadia))
    assert drivers_listed(html) == ["=Fay Formula", "Dan Driver", "Eve Electric"]
    assert "3 jobs" in html
    # Dan's row: Customer ID, status, installer, days in status, the latest quote that
    # was not withdrawn (1,210.00, not the withdrawn 500.00), each payer's share.
    dan = html[html.index("Dan Driver") :][:2500]
    for text in ("Acme_Home", "CRM-1", "Quoted", "Sparkfit Installations", ">20<", "1210.00"):
        assert text in dan, text
    assert "1000.00" in dan and "210.00" in dan and "500.00" not in dan
    # Eve's: serial, MID number, warranty, a link to the declaration.
    eve = html[html.index("Eve Electric") :][:2500]
    for text in ("SN-4242", "MID-77", "1 Oct 2028", "Completed", "Voltwerk Elektro"):
        assert text in eve, text
    declaration = jobs.eve.documents.get()
    assert f'href="/installations/jobs/{jobs.eve.pk}/documents/{declaration.pk}/"' in eve


def test_another_organisations_jobs_never_appear(jobs: Jobs):
    html = page(client_for(jobs.world.nadia))
    assert "Rob Rival" not in html and "Rival_Home" not in html
    # Even when asked for with its own connection and Customer ID.
    html = page(client_for(jobs.world.nadia), connection=str(jobs.rival.connection_id))
    assert "Rob Rival" not in html and "Unknown connection" in html
    # Rival Lease sees only its own.
    assert drivers_listed(page(client_for(jobs.world.bob))) == ["Rob Rival"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "quoted"}, ["Dan Driver"]),
        ({"status": "completed"}, ["Eve Electric"]),
        ({"customer_id": "CRM-1"}, ["=Fay Formula", "Dan Driver"]),
        ({"customer_id": "CRM-2"}, ["Eve Electric"]),
        ({"customer_id": "crm-2"}, ["Eve Electric"]),  # any case
        ({"overdue": "1"}, ["Dan Driver"]),  # open, more than 14 days in its status
        ({"overdue": "1", "overdue_days": "21"}, []),
        ({"start": "2000-01-01"}, ["=Fay Formula", "Dan Driver", "Eve Electric"]),
    ],
)
def test_each_filter(jobs: Jobs, params: dict[str, str], expected: list[str]):
    assert drivers_listed(page(client_for(jobs.world.ana), **params)) == expected


def test_the_installer_connection_and_period_filters(jobs: Jobs):
    client = client_for(jobs.world.otto)
    by_installer = page(client, installer=str(jobs.voltwerk.company.pk))
    assert drivers_listed(by_installer) == ["Eve Electric"]
    assert drivers_listed(page(client, connection=str(jobs.globex.pk))) == ["Eve Electric"]
    # The period is in the organisation's local days, as the admin picks them.
    created = timezone.localtime(jobs.eve.created_at).date().isoformat()
    assert drivers_listed(page(client, start=created, end=created)) == ["Eve Electric"]


def test_a_bad_filter_is_dropped_with_a_message(jobs: Jobs):
    html = page(
        client_for(jobs.world.ana), status="lost", start="soon", overdue_days="-3", sort="x"
    )
    assert "Unknown status “lost”" in html
    assert "The from date “soon” is not a date" in html
    assert "The overdue threshold is a whole number of days" in html
    assert "Cannot sort by “x”" in html
    assert len(drivers_listed(html)) == 3


def test_an_installer_of_another_organisation_is_unknown(jobs: Jobs):
    other = make_job(
        make_connection(jobs.world.org_b, name="Rival_Two"),
        driver("ray@example.com", "Ray"),
        jobs.voltwerk.company,
    )
    html = page(client_for(jobs.world.bob), installer=str(jobs.sparkfit.company.pk))
    assert drivers_listed(html) == ["Rob Rival"]
    assert other.pk  # Voltwerk works for Rival Lease too, and is offered there
    html = page(client_for(jobs.world.nadia), installer="999999")
    assert "Unknown installer" in html and len(drivers_listed(html)) == 3


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("created", ["Eve Electric", "Dan Driver", "=Fay Formula"]),
        ("driver", ["=Fay Formula", "Dan Driver", "Eve Electric"]),
        ("-days_in_status", ["Dan Driver", "Eve Electric", "=Fay Formula"]),
        ("days_in_status", ["=Fay Formula", "Eve Electric", "Dan Driver"]),
        # Rows without a value come last both ways; among them, by id the same way.
        ("-quote_total", ["Dan Driver", "=Fay Formula", "Eve Electric"]),
        ("quote_total", ["Dan Driver", "Eve Electric", "=Fay Formula"]),
        ("warranty_until", ["Eve Electric", "Dan Driver", "=Fay Formula"]),
    ],
)
def test_sorting(jobs: Jobs, sort: str, expected: list[str]):
    assert drivers_listed(page(client_for(jobs.world.nadia), sort=sort)) == expected


def test_paging(jobs: Jobs):
    for n in range(PAGE_SIZE):
        make_job(jobs.acme, driver(f"bulk{n}@example.com", f"Bulk {n:02d}"), None)
    client = client_for(jobs.world.nadia)
    first = page(client)
    assert f"{PAGE_SIZE + 3} jobs" in first and "Page 1 of 2" in first
    assert drivers_listed(first) == [f"Bulk {n:02d}" for n in reversed(range(PAGE_SIZE))]
    second = page(client, page="2")
    assert drivers_listed(second) == ["=Fay Formula", "Dan Driver", "Eve Electric"]
    assert "Page 2 of 2" in second


def test_analyst_and_connections_officer_read_it_installers_and_drivers_do_not(jobs: Jobs):
    assert client_for(jobs.world.ana).get(REPORT).status_code == 200
    assert client_for(jobs.world.otto).get(REPORT).status_code == 200
    assert client_for(jobs.sparkfit.manager).get(REPORT).status_code == 403
    assert client_for(jobs.sparkfit.technician).get(REPORT).status_code == 403
    someone = Client()
    someone.force_login(
        User.objects.get(email="dan@example.com"), backend="evdms.accounts.backends.EmailBackend"
    )
    assert someone.get(REPORT).status_code == 403


def test_navigation_offers_the_report_to_those_who_may_read_it(jobs: Jobs):
    assert (
        'href="/installations/"' in client_for(jobs.world.ana).get("/dashboard/").content.decode()
    )
    response = client_for(jobs.sparkfit.manager).get("/installer/")
    assert 'href="/installations/"' not in response.content.decode()


def test_a_page_costs_the_same_number_of_queries_whatever_the_rows(
    jobs: Jobs, django_assert_num_queries
):
    actor = jobs.world.actor(jobs.world.nadia)
    query = parse_installation_query({"status": "assigned"})
    # Queries: the grants the actor holds (once per actor: its reach is kept), the
    # count, the page's ids and the page's rows.
    with django_assert_num_queries(4):
        assert installations_count(actor, query) == 1
        assert len(installations_slice(actor, query, 0, PAGE_SIZE)) == 1
    for n in range(30):
        make_job(jobs.acme, driver(f"more{n}@example.com", f"More {n}"), jobs.sparkfit.company)
    actor = jobs.world.actor(jobs.world.nadia)
    with django_assert_num_queries(4):
        assert installations_count(actor, query) == 31
        assert len(installations_slice(actor, query, 0, PAGE_SIZE)) == 31


def test_the_page_itself_costs_a_fixed_number_of_queries(jobs: Jobs):
    client = client_for(jobs.world.nadia)
    client.get(REPORT)  # the session and the like
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(REPORT, {"status": "assigned"})
    for n in range(20):
        make_job(jobs.acme, driver(f"x{n}@example.com", f"X {n}"), jobs.sparkfit.company)
    with CaptureQueriesContext(connection) as many:
        html = client.get(REPORT, {"status": "assigned"}).content.decode()
    assert len(drivers_listed(html)) == 21
    assert len(many) == len(few)
