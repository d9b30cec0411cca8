"""The Statements page of organisation admins: their drivers' statements with filters,
paging and CSV; a statement's sessions only with Home Charging Data Sharing."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection as database
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evdms.reimbursements.models import Statement
from evdms.reimbursements.tests.conftest import october
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db
LIST = reverse("reimbursements:statements")


def test_an_analyst_sees_the_statements_of_her_organisation_only(world, make_statement):
    make_statement("anna@example.com", total="12.34", sessions=[(october(3), 10_000)])
    make_statement("rita@example.com", total="99.99", organisation=world.org_b)
    page = client_for(world.ana).get(LIST).content.decode()
    assert "anna@example.com" in page and "€12.34" in page and "October 2026" in page
    assert "10.000" in page and "Ready to pay" in page
    assert "rita@example.com" not in page and "99.99" not in page
    nav = client_for(world.ana).get(reverse("web:dashboard")).content.decode()
    assert f'href="{LIST}"' in nav


def test_filters_by_month_connection_and_status(world, make_statement):
    make_statement("anna@example.com", month=date(2026, 9, 1), total="1.11")
    make_statement("anna@example.com", month=date(2026, 10, 1), total="2.22", status="paid")
    bert = make_statement("bert@example.com", month=date(2026, 10, 1), total="3.33", sharing=True)
    ana = client_for(world.ana)

    def amounts(**query: str) -> list[str]:
        rows = ana.get(LIST, query).context["page"].object_list
        return sorted(str(s.total) for s in rows)

    assert amounts() == ["1.11", "2.22", "3.33"]
    assert amounts(month="2026-10") == ["2.22", "3.33"]
    assert amounts(status="paid") == ["2.22"]
    assert amounts(connection=str(bert.connection_id)) == ["3.33"]
    assert amounts(month="2026-10", status="ready") == ["3.33"]


def test_a_bad_filter_says_so_and_shows_everything(world, make_statement):
    foreign = make_statement("rita@example.com", organisation=world.org_b)
    make_statement("anna@example.com", total="1.11")
    ana = client_for(world.ana)
    for query, message in [
        ({"month": "October"}, "Give the month as YYYY-MM"),
        ({"status": "stolen"}, "Choose a status from the list."),
        ({"connection": "x"}, "Choose one of your connections."),
        ({"connection": str(foreign.connection_id)}, "Choose one of your connections."),
    ]:
        response = ana.get(LIST, query)
        assert response.status_code == 200 and message in response.content.decode()
        assert [str(s.total) for s in response.context["page"]] == ["1.11"]


def test_the_list_pages_and_costs_the_same_queries_for_many_statements(world, make_statement):
    first = make_statement("anna@example.com", month=date(2020, 1, 1))
    ana = client_for(world.ana)
    ana.get(LIST)  # warm caches (session, permissions)
    with CaptureQueriesContext(database) as one:
        ana.get(LIST)
    Statement.objects.bulk_create(
        Statement(
            driver=first.driver,
            connection=first.connection,
            month=date(2021 + n // 12, n % 12 + 1, 1),
            currency="EUR",
            total=Decimal("1.00"),
            status="ready",
        )
        for n in range(60)
    )
    with CaptureQueriesContext(database) as many:
        response = ana.get(LIST)
    assert len(many) == len(one)
    assert len(response.context["page"]) == 50
    second = ana.get(LIST, {"page": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_the_csv_export_has_the_filtered_statements(world, make_statement):
    make_statement("anna@example.com", total="12.34", sessions=[(october(3), 10_000)])
    make_statement("bert@example.com", total="5.00", status="failed")
    response = client_for(world.ana).get(LIST, {"status": "failed", "export": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert rows[0] == [
        "Reference",
        "Month",
        "Driver",
        "Connection",
        "kWh",
        "Amount",
        "Currency",
        "Status",
    ]
    assert [r[2:] for r in rows[1:]] == [
        ["bert@example.com", rows[1][3], "0.000", "5.00", "EUR", "failed"]
    ]


def test_sessions_are_shown_only_with_home_charging_data_sharing(world, make_statement):
    shared = make_statement(
        "anna@example.com", sharing=True, sessions=[(october(3), 10_000), (october(9), 2_500)]
    )
    private = make_statement("bert@example.com", sharing=False, sessions=[(october(4), 7_000)])
    ana = client_for(world.ana)
    page = ana.get(reverse("reimbursements:statement_detail", args=[shared.pk])).content.decode()
    assert "3 Oct 2026" in page and "9 Oct 2026" in page and "C-" in page
    assert "12.500 kWh" in page
    assert "€2.5000" in page and "€0.6250" in page  # the exact line amounts, their currency
    page = ana.get(reverse("reimbursements:statement_detail", args=[private.pk])).content.decode()
    assert "Session details are not shared" in page
    assert "7.000 kWh" in page  # the summary reimbursement needs
    assert "4 Oct 2026" not in page and "C-" not in page


def test_another_organisation_gets_404_for_a_statement(world, make_statement):
    statement = make_statement("anna@example.com")
    url = reverse("reimbursements:statement_detail", args=[statement.pk])
    assert client_for(world.bob).get(url).status_code == 404
    missing = reverse("reimbursements:statement_detail", args=[999_999])
    assert client_for(world.bob).get(missing).status_code == 404
    assert client_for(world.otto).get(url).status_code == 403  # no reports for officers


def test_the_api_gives_a_statement_with_sessions_only_under_data_sharing(
    world, make_statement, api_key_for, client
):
    from evdms.accounts.models import Role

    shared = make_statement("anna@example.com", sharing=True, sessions=[(october(3), 10_000)])
    private = make_statement("bert@example.com", status="failed", sessions=[(october(4), 7_000)])
    headers = api_key_for(world.org_a, Role.ANALYST)
    body = client.get(f"/api/v1/statements/{shared.pk}", headers=headers).json()
    assert body["energy_wh"] == 10_000 and body["reference"] == shared.reference
    assert [(s["energy_wh"], s["amount"]) for s in body["sessions"]] == [(10_000, "2.5000000")]
    body = client.get(f"/api/v1/statements/{private.pk}", headers=headers).json()
    assert body["sessions"] is None and body["energy_wh"] == 7_000
    listed = client.get("/api/v1/statements?status=failed", headers=headers).json()
    assert [i["id"] for i in listed["items"]] == [private.pk]
    by_connection = client.get(
        f"/api/v1/statements?connection_id={shared.connection_id}", headers=headers
    ).json()
    assert [i["id"] for i in by_connection["items"]] == [shared.pk]
    bad = client.get("/api/v1/statements.csv?status=lost", headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]
    outsider = api_key_for(world.org_b, name="outsider")
    assert client.get(f"/api/v1/statements/{shared.pk}", headers=outsider).status_code == 404


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(content)).pages[0].extract_text()


def test_an_analyst_downloads_the_statement_pdf_from_its_page(world, make_statement):
    shared = make_statement(
        "anna@example.com", total="2.50", sharing=True, sessions=[(october(3), 10_000)]
    )
    ana = client_for(world.ana)
    url = reverse("reimbursements:statement_pdf_for_organisation", args=[shared.pk])
    page = ana.get(reverse("reimbursements:statement_detail", args=[shared.pk])).content.decode()
    assert f'href="{url}"' in page and "Download PDF" in page
    response = ana.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{shared.reference}.pdf"'
    text = _pdf_text(response.content)
    assert shared.reference in text and "anna@example.com" in text and "2.50" in text
    assert "03/10/2026" in text and "10.000" in text  # the session (local date), as shared
    assert "Driver's price" in text and "Your price" not in text


def test_the_admin_pdf_leaves_out_sessions_without_home_charging_data_sharing(
    world, make_statement
):
    private = make_statement("bert@example.com", total="1.75", sessions=[(october(4), 7_000)])
    url = reverse("reimbursements:statement_pdf_for_organisation", args=[private.pk])
    text = _pdf_text(client_for(world.ana).get(url).content)
    flat = " ".join(text.split())  # wherever the paragraph wraps
    assert "Session details are not shared" in flat and "1.75" in text
    assert "04/10/2026" not in text and "7.000" not in text


def test_the_statement_pdf_is_404_outside_the_admins_reach_and_403_without_reports(
    world, make_statement
):
    statement = make_statement("anna@example.com")
    url = reverse("reimbursements:statement_pdf_for_organisation", args=[statement.pk])
    assert client_for(world.bob).get(url).status_code == 404
    missing = reverse("reimbursements:statement_pdf_for_organisation", args=[999_999])
    assert client_for(world.ana).get(missing).status_code == 404
    assert client_for(world.otto).get(url).status_code == 403  # no reports for officers
    # Ana limited to another connection of Voltlease no longer reaches this driver.
    from evdms.testing.fixtures import make_connection

    other = make_connection(world.org_a, name="Elsewhere")
    world.ana.all_connections = False
    world.ana.save(update_fields=["all_connections"])
    world.ana.connections.set([other])
    assert client_for(world.ana).get(url).status_code == 404


def test_the_statement_pdf_reads_figures_as_the_pages_do(world, make_statement):
    """Issue #18: one way of writing numbers, in PDFs too: grouped, prices with at
    most four decimals, the total with two."""
    big = make_statement(
        "carla@example.com", total="1815.50", sharing=True, sessions=[(october(5), 1_234_567)]
    )
    url = reverse("reimbursements:statement_pdf_for_organisation", args=[big.pk])
    text = _pdf_text(client_for(world.ana).get(url).content)
    assert "1,815.50" in text and "1815.50" not in text
    assert "Total (rounded to the cent) €1,815.50" in text  # the total with its currency
    assert "1,234.567" in text  # kWh of the session
    assert "0.25" in text and "0.2500" not in text  # the driver's price
