"""The Invoices pages of an organisation: the list with its filters, an invoice with
its parties, lines, VAT and credit notes, and its downloads; for Network Managers and
Analysts of the organisation invoiced (or whose charges they are) only."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection as database
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evdms.accounts.models import Role
from evdms.invoicing import downloads
from evdms.invoicing.models import Invoice, InvoiceKind
from evdms.invoicing.services.issue import invoice_issue
from evdms.invoicing.tests.invoice_fixtures import (  # noqa: F401
    OCTOBER,
    Invoices,
    fee,
    invoices_fixture,
)
from evdms.testing.fixtures import client_for, make_admin

pytestmark = pytest.mark.django_db
LIST = reverse("invoicing:list")


def detail(invoice: Invoice) -> str:
    return reverse("invoicing:detail", args=[invoice.pk])


def unmasked(response) -> str:
    """The page without its CSRF token, which is masked afresh for every response."""
    page = re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


def numbers(response) -> list[str]:
    return [invoice.number for invoice in response.context["page"]]


def test_the_list_shows_what_finance_needs(invoices: Invoices):
    page = client_for(invoices.world.nadia).get(LIST).content.decode()
    services = invoices.services
    assert services.number in page and "Services" in page and "October 2026" in page
    assert "1 Nov 2026" in page and "1 Dec 2026" in page  # issue date, due date (30 days)
    assert "€39.33" in page  # 3 × 10.00 + 2.50, 21% VAT: 6.825 → 6.83
    assert "Sent" in page and "Overdue" in page and "Credit note" in page
    # The Bundle invoice names its driver; Globex's charges are billed to Voltlease.
    assert "Dan Driver" in page and "€1,815.00" in page
    assert invoices.globex_services.number in page and "for Globex" in page
    assert invoices.rival.number not in page and "99.99" not in page
    assert "5 invoices" in page


def test_invoices_is_in_the_navigation_of_roles_that_may_see_it(invoices: Invoices):
    world = invoices.world
    dashboard = reverse("web:dashboard")
    for admin in (world.nadia, world.ana):
        assert f'href="{LIST}"' in client_for(admin).get(dashboard).content.decode()
    otto = client_for(world.otto)
    assert f'href="{LIST}"' not in otto.get(dashboard).content.decode()
    assert otto.get(LIST).status_code == 403
    assert otto.get(detail(invoices.services)).status_code == 403


def test_the_filters(invoices: Invoices):
    ana = client_for(invoices.world.ana)
    assert numbers(ana.get(LIST, {"kind": "transactions"})) == [invoices.transactions.number]
    assert numbers(ana.get(LIST, {"month": "2026-11"})) == [invoices.bundle.number]
    assert numbers(ana.get(LIST, {"status": "overdue"})) == [invoices.transactions.number]
    assert numbers(ana.get(LIST, {"kind": "services", "month": "2026-10"})) == [
        invoices.globex_services.number,
        invoices.services.number,
    ]
    assert numbers(ana.get(LIST, {"month": "2026-09"})) == []
    # The filters are kept in the form.
    page = ana.get(LIST, {"month": "2026-10", "kind": "services"}).content.decode()
    assert 'value="2026-10"' in page and '<option value="services" selected>' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"month": "October"}, "The month “October” is not a month (YYYY-MM)"),
        ({"month": "2026-13"}, "The month “2026-13” is not a month (YYYY-MM)"),
        ({"kind": "gift"}, "Unknown kind “gift”: showing every kind."),
        ({"status": "forgiven"}, "Unknown status “forgiven”: showing every status."),
    ],
)
def test_a_bad_filter_says_so_and_shows_everything(invoices: Invoices, query, message):
    response = client_for(invoices.world.ana).get(LIST, query)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(numbers(response)) == 5


def test_the_list_pages_and_costs_the_same_queries_for_many_invoices(invoices: Invoices):
    ana = client_for(invoices.world.ana)
    ana.get(LIST)  # warm caches (session, permissions)
    with CaptureQueriesContext(database) as few:
        ana.get(LIST)
    for month in range(1, 13):
        for year in (2022, 2023, 2024, 2025):
            invoice_issue(
                organisation=invoices.world.org_a,
                kind=InvoiceKind.SERVICES,
                month=date(year, month, 1),
                lines=[fee("1.00")],
                issue_date=date(year, month, 1),
            )
    with CaptureQueriesContext(database) as many:
        response = ana.get(LIST)
    assert len(many) == len(few)
    assert len(numbers(response)) == 50
    second = ana.get(LIST, {"page": 2})
    assert "Page 2 of 2" in second.content.decode()
    assert len(numbers(second)) == 5 + 48 - 50


def test_the_invoice_page(invoices: Invoices):
    services = invoices.services
    page = client_for(invoices.world.ana).get(detail(services)).content.decode()
    assert f"Services invoice {services.number}" in page
    # The parties as issued.
    assert "evdms Platform B.V." in page and "NL004495445B01" in page
    assert "Voltlease B.V." in page and "Keizersgracht 1" in page and "PO-2026-77" in page
    assert "1 November 2026" in page and "1 December 2026" in page
    # Lines, VAT summary and totals.
    assert "Monthly fee per driver" in page and "Home warranty and labour" in page
    assert "€30.00" in page and "€2.50" in page
    assert "Standard rate" in page and "21%" in page
    assert "€32.50" in page and "€6.83" in page and "€39.33" in page
    # How to pay it, and what corrects it.
    assert services.payment_reference in page and services.seller["iban"] in page
    assert invoices.credit_note.number in page and "Driver counted twice" in page
    assert reverse("invoicing:pdf", args=[services.pk]) in page
    assert reverse("invoicing:lines_csv", args=[services.pk]) in page


def test_a_credited_invoice_asks_what_is_left_to_pay(invoices: Invoices):
    # 39.33 less the credit note's 12.10: the bank file pays the invoice only for the
    # amount left, so that is what the page must ask for.
    page = client_for(invoices.world.ana).get(detail(invoices.services)).content.decode()
    payment = page[page.index("<h2>Payment</h2>") :]
    assert "Left to pay" in payment and "€27.23" in payment
    untouched = client_for(invoices.world.ana).get(detail(invoices.bundle)).content.decode()
    assert "Left to pay" not in untouched


def test_a_credit_note_names_its_invoice_and_asks_nothing(invoices: Invoices):
    note = invoices.credit_note
    page = client_for(invoices.world.ana).get(detail(note)).content.decode()
    assert f"Credit note {note.number}" in page
    assert invoices.services.number in page and detail(invoices.services) in page
    assert "Nothing to pay" in page and "€12.10" in page


def test_a_transactions_invoice_lists_its_sessions_in_local_time(invoices: Invoices):
    page = client_for(invoices.world.ana).get(detail(invoices.transactions)).content.decode()
    assert "15 Oct 2026 01:30" in page  # 23:30 UTC the day before
    assert "20 Oct 2026 09:00" in page
    assert "Dan Driver" in page and "Eve Electric" in page and "CRM-7" in page
    assert "Fastned Amsterdam Zuid" in page and "23.456" in page
    assert "€12.34" in page and "€20.98" in page  # 17.34 + 3.64 VAT
    assert "Overdue" in page


def test_a_bundle_invoice_names_its_driver(invoices: Invoices):
    page = client_for(invoices.world.nadia).get(detail(invoices.bundle)).content.decode()
    assert "Bundle invoice" in page and "Dan Driver (dan@example.com)" in page
    assert "€1,815.00" in page


def test_the_payer_sees_what_it_is_billed_and_the_customer_its_own_charges(
    invoices: Invoices,
):
    invoice = invoices.globex_services
    page = client_for(invoices.world.ana).get(detail(invoice)).content.decode()
    assert "Charges of" in page and "Globex" in page and "you are its payer" in page
    assert "Voltlease B.V." in page  # addressed to the payer
    # Globex's own Network Manager sees it too, billed to Voltlease, and nothing else.
    gina = client_for(make_admin(invoices.globex, "gina@globex.example", Role.NETWORK_MANAGER))
    listing = gina.get(LIST)
    assert numbers(listing) == [invoice.number]
    assert "billed to Voltlease B.V." in listing.content.decode()
    assert gina.get(detail(invoice)).status_code == 200
    assert gina.get(detail(invoices.services)).status_code == 404


def test_another_organisations_invoice_is_a_404_like_a_missing_one(invoices: Invoices):
    bob = client_for(invoices.world.bob)
    assert numbers(bob.get(LIST)) == [invoices.rival.number]
    missing = max(Invoice.objects.values_list("pk", flat=True)) + 1
    for name in ("invoicing:detail", "invoicing:pdf", "invoicing:lines_csv"):
        foreign = bob.get(reverse(name, args=[invoices.services.pk]))
        absent = bob.get(reverse(name, args=[missing]))
        assert foreign.status_code == absent.status_code == 404
        assert unmasked(foreign) == unmasked(absent)


def test_a_driver_sees_nothing_of_invoices(invoices: Invoices):
    driver = Client()
    driver.force_login(invoices.dan, backend="evdms.accounts.backends.EmailBackend")
    home = driver.get(reverse("reimbursements:mine")).content.decode()
    assert "Invoices" not in home and LIST not in home
    # Every admin page answers a driver 403 whatever the id: nothing tells an invoice
    # of the driver's own Bundle from a missing one.
    missing = max(Invoice.objects.values_list("pk", flat=True)) + 1
    assert driver.get(LIST).status_code == 403
    own = driver.get(detail(invoices.bundle))
    absent = driver.get(reverse("invoicing:detail", args=[missing]))
    assert own.status_code == absent.status_code == 403
    assert unmasked(own) == unmasked(absent)
    assert invoices.bundle.number not in own.content.decode()


def test_the_downloads(invoices: Invoices, monkeypatch):
    made: list[str] = []

    def pdf(invoice: Invoice) -> bytes:
        made.append(invoice.number)
        return b"%PDF-1.7 " + invoice.number.encode()

    monkeypatch.setattr(downloads, "render_pdf", pdf)
    monkeypatch.setattr(downloads, "render_lines_csv", lambda i: f"Number\r\n{i.number}ü\r\n")
    ana = client_for(invoices.world.ana)
    number = invoices.transactions.number
    response = ana.get(reverse("invoicing:pdf", args=[invoices.transactions.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{number}.pdf"'
    assert response["Cache-Control"] == "no-store"
    assert response.content == b"%PDF-1.7 " + number.encode()
    response = ana.get(reverse("invoicing:lines_csv", args=[invoices.transactions.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{number}.csv"'
    assert response.content.decode("utf-8") == f"Number\r\n{number}ü\r\n"
    # A PDF rendered when the invoice was sent is the one downloaded, byte for byte.
    Invoice.objects.filter(pk=invoices.services.pk).update(pdf=b"%PDF-1.7 as e-mailed")
    response = ana.get(reverse("invoicing:pdf", args=[invoices.services.pk]))
    assert response.content == b"%PDF-1.7 as e-mailed"
    assert made == [number]
    # Downloads are read, not written to.
    post = ana.post(reverse("invoicing:pdf", args=[invoices.services.pk]))
    assert post.status_code == 405


def test_totals_on_the_page_are_the_invoices_to_the_cent(invoices: Invoices):
    invoice = invoice_issue(
        organisation=invoices.world.org_a,
        kind=InvoiceKind.SERVICES,
        month=date(2026, 8, 1),
        lines=[fee("0.333", "3"), fee("1234567.8")],
        issue_date=date(2026, 9, 1),
    )
    assert invoice.total_incl_vat == Decimal("1493828.25")
    page = client_for(invoices.world.ana).get(detail(invoice)).content.decode()
    assert "€1.00" in page and "€1,234,567.80" in page and "€1,493,828.25" in page
    assert "0.333" in page  # the unit price as agreed, before rounding


def test_an_empty_list(world):
    page = client_for(world.ana).get(LIST).content.decode()
    assert "No invoices match." in page and "0 invoices" in page


def test_a_long_transactions_invoice_pages_its_lines_at_a_fixed_cost(invoices: Invoices):
    from datetime import UTC, datetime, timedelta

    from evdms.invoicing.tests.invoice_fixtures import session

    ana = client_for(invoices.world.ana)
    url = detail(invoices.transactions)
    ana.get(url)
    with CaptureQueriesContext(database) as short:
        ana.get(url)
    start = datetime(2026, 9, 1, 8, tzinfo=UTC)
    long = invoice_issue(
        organisation=invoices.world.org_a,
        kind=InvoiceKind.TRANSACTIONS,
        month=date(2026, 9, 1),
        lines=[session(start + timedelta(hours=n), "1.00", 1_000) for n in range(250)],
        issue_date=date(2026, 10, 1),
    )
    with CaptureQueriesContext(database) as many:
        first = ana.get(detail(long))
    assert len(many) == len(short)
    page = first.content.decode()
    assert "Lines 1–200 of 250" in page and "€302.50" in page  # 250.00 + 52.50 VAT
    assert page.count("Public charging session") == 200
    rest = ana.get(detail(long), {"page": 2}).content.decode()
    assert "Lines 201–250 of 250" in rest and rest.count("Public charging session") == 50
