"""The organisation's invoices over the API: the paged list with the page's filters
(a bad one is a 422 naming it), one invoice with its lines and VAT breakdown, its PDF
and lines CSV; keys with VIEW_INVOICES only, another organisation's invoice a 404."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from evdms.accounts.models import Role
from evdms.invoicing import downloads
from evdms.invoicing.models import Invoice, InvoiceKind
from evdms.invoicing.services.issue import invoice_issue
from evdms.invoicing.tests.invoice_fixtures import (  # noqa: F401
    Invoices,
    fee,
    invoices_fixture,
)

pytestmark = pytest.mark.django_db
LIST = "/api/v1/invoices"


def numbers(body: dict) -> list[str]:
    return [item["number"] for item in body["items"]]


def test_the_list_is_paged_newest_first_and_scoped(invoices: Invoices, client, api_key_for):
    headers = api_key_for(invoices.world.org_a, Role.ANALYST)
    body = client.get(LIST, {"limit": 2}, headers=headers).json()
    assert (body["count"], body["offset"], body["limit"]) == (5, 0, 2)
    assert numbers(body) == [invoices.bundle.number, invoices.credit_note.number]
    bundle = body["items"][0]
    assert bundle["kind"] == "bundle" and bundle["driver_email"] == "dan@example.com"
    assert bundle["month"] == "2026-11-01" and bundle["issue_date"] == "2026-12-01"
    assert bundle["due_date"] == "2026-12-31" and bundle["status"] == "issued"
    assert (bundle["total_excl_vat"], bundle["total_vat"], bundle["total_incl_vat"]) == (
        "1500.00",
        "315.00",
        "1815.00",
    )
    assert bundle["currency"] == "EUR" and bundle["payment_reference"].startswith("RF")
    note = body["items"][1]
    assert note["credits_id"] == invoices.services.pk and note["status"] == "credit"
    rest = client.get(LIST, {"offset": 2, "limit": 2}, headers=headers).json()
    assert numbers(rest) == [invoices.transactions.number, invoices.globex_services.number]
    last = client.get(LIST, {"offset": 4, "limit": 2}, headers=headers).json()
    assert numbers(last) == [invoices.services.number]
    rival = client.get(LIST, headers=api_key_for(invoices.world.org_b)).json()
    assert numbers(rival) == [invoices.rival.number]


def test_the_payer_is_listed_what_it_is_billed_and_the_customer_its_charges(
    invoices: Invoices, client, api_key_for
):
    item = next(
        i
        for i in client.get(LIST, headers=api_key_for(invoices.world.org_a)).json()["items"]
        if i["id"] == invoices.globex_services.pk
    )
    assert (item["organisation_id"], item["buyer_id"]) == (
        invoices.globex.pk,
        invoices.world.org_a.pk,
    )
    own = client.get(LIST, headers=api_key_for(invoices.globex)).json()
    assert numbers(own) == [invoices.globex_services.number]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "transactions"}, ["transactions"]),
        ({"month": "2026-11"}, ["bundle"]),
        ({"status": "overdue"}, ["transactions"]),
        ({"kind": "services", "month": "2026-10"}, ["globex_services", "services"]),
        ({"kind": "credit_note", "status": "credit"}, ["credit_note"]),
        ({"month": "2026-09"}, []),
    ],
)
def test_the_filters(invoices: Invoices, client, api_key_for, params, expected):
    body = client.get(LIST, params, headers=api_key_for(invoices.world.org_a)).json()
    assert numbers(body) == [getattr(invoices, name).number for name in expected]
    assert body["count"] == len(expected)


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"kind": "gift"},
            "kind",
            "Unknown kind “gift”: use bundle, services, transactions or credit_note.",
        ),
        ({"month": "October"}, "month", "The month “October” is not a month (YYYY-MM)."),
        ({"month": "2026-13"}, "month", "The month “2026-13” is not a month (YYYY-MM)."),
        ({"month": "2026-10-01"}, "month", "The month “2026-10-01” is not a month (YYYY-MM)."),
        (
            {"status": "forgiven"},
            "status",
            "Unknown status “forgiven”: use issued, sent, paid, overdue or credit.",
        ),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(
    invoices: Invoices, client, api_key_for, params, field, message
):
    response = client.get(LIST, params, headers=api_key_for(invoices.world.org_a))
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field] and error["type"] == "value_error"
    assert error["msg"] == message


@pytest.mark.parametrize(("params"), [{"limit": 0}, {"limit": 1001}, {"offset": -1}])
def test_bad_paging_is_a_422(invoices: Invoices, client, api_key_for, params):
    response = client.get(LIST, params, headers=api_key_for(invoices.world.org_a))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_the_list_costs_the_same_queries_for_many_invoices(invoices: Invoices, client, api_key_for):
    from django.db import connection as database
    from django.test.utils import CaptureQueriesContext

    headers = api_key_for(invoices.world.org_a)
    client.get(LIST, headers=headers)
    with CaptureQueriesContext(database) as few:
        client.get(LIST, headers=headers)
    for month in range(1, 13):
        invoice_issue(
            organisation=invoices.world.org_a,
            kind=InvoiceKind.BUNDLE,
            month=date(2025, month, 1),
            driver=invoices.dan,
            lines=[fee("1.00")],
        )
    with CaptureQueriesContext(database) as many:
        body = client.get(LIST, headers=headers).json()
    assert body["count"] == 17 and len(body["items"]) == 17
    assert len(many) == len(few)


def test_one_invoice_with_its_lines_and_vat(invoices: Invoices, client, api_key_for):
    response = client.get(
        f"{LIST}/{invoices.transactions.pk}", headers=api_key_for(invoices.world.org_a)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == invoices.transactions.number and body["status"] == "overdue"
    assert body["seller"]["name"] == "evdms Platform B.V." and body["seller"]["iban"]
    assert body["buyer"]["name"] == "Voltlease B.V."
    assert body["buyer"]["purchase_order_reference"] == "PO-2026-77"
    assert body["sent_at"] is not None and body["paid_at"] is None
    first, second = body["lines"]
    assert first["position"] == 1 and first["source"] == "public_session"
    assert first["net_amount"] == "12.34" and first["energy_wh"] == 23_456
    assert Decimal(first["quantity"]) == Decimal("23.456") and first["unit"] == "KWH"
    assert first["occurred_at"].startswith("2026-10-14T23:30:00")
    assert first["driver_name"] == "Dan Driver" and first["customer_id"] == "CRM-7"
    assert first["verification_1"] == "EMP-42" and first["place"] == "Fastned Amsterdam Zuid"
    assert (first["vat_category"], first["vat_rate"]) == ("S", "21.00")
    assert second["driver_name"] == "Eve Electric" and second["net_amount"] == "5.00"
    [vat] = body["vat_breakdown"]
    assert (vat["category"], vat["rate"], vat["basis"], vat["amount"]) == (
        "S",
        "21.00",
        "17.34",
        "3.64",
    )
    assert body["total_incl_vat"] == "20.98"
    assert body["credit_notes"] == []


def test_an_invoice_lists_its_credit_notes(invoices: Invoices, client, api_key_for):
    headers = api_key_for(invoices.world.org_a, Role.ANALYST)
    body = client.get(f"{LIST}/{invoices.services.pk}", headers=headers).json()
    assert body["credit_notes"] == [
        {
            "id": invoices.credit_note.pk,
            "number": invoices.credit_note.number,
            "issue_date": "2026-11-10",
            "total_incl_vat": "12.10",
            "credit_reason": "Driver counted twice",
        }
    ]
    # What the bank file will accept as its payment: 39.33 less the credit note's 12.10.
    assert body["amount_due"] == "27.23"
    note = client.get(f"{LIST}/{invoices.credit_note.pk}", headers=headers).json()
    assert note["credits_id"] == invoices.services.pk
    assert note["amount_due"] == "0.00"  # a credit note asks nothing
    assert note["credit_reason"] == "Driver counted twice"


@pytest.mark.parametrize("suffix", ["", "/pdf", "/lines.csv"])
def test_another_organisations_invoice_is_a_404_like_a_missing_one(
    invoices: Invoices, client, api_key_for, suffix, monkeypatch
):
    monkeypatch.setattr(downloads, "render_pdf", lambda invoice: b"%PDF")
    monkeypatch.setattr(downloads, "render_lines_csv", lambda invoice: "a,b\r\n")
    headers = api_key_for(invoices.world.org_b)
    missing = max(Invoice.objects.values_list("pk", flat=True)) + 1
    foreign = client.get(f"{LIST}/{invoices.services.pk}{suffix}", headers=headers)
    absent = client.get(f"{LIST}/{missing}{suffix}", headers=headers)
    assert foreign.status_code == absent.status_code == 404
    assert foreign.json() == absent.json() == {"detail": "Not found."}
    # Rival's own invoice is there for it.
    assert client.get(f"{LIST}/{invoices.rival.pk}{suffix}", headers=headers).status_code == 200


def test_roles_without_view_invoices_are_refused(invoices: Invoices, client, api_key_for):
    headers = api_key_for(invoices.world.org_a, Role.CONNECTIONS_OFFICER)
    assert client.get(LIST, headers=headers).status_code == 403
    assert client.get(f"{LIST}/{invoices.services.pk}", headers=headers).status_code == 403
    assert client.get(LIST).status_code == 401


def test_the_downloads(invoices: Invoices, client, api_key_for, monkeypatch):
    monkeypatch.setattr(downloads, "render_pdf", lambda i: b"%PDF-1.7 " + i.number.encode())
    monkeypatch.setattr(downloads, "render_lines_csv", lambda i: f"Number\r\n{i.number}\r\n")
    headers = api_key_for(invoices.world.org_a, Role.ANALYST)
    number = invoices.transactions.number
    pdf = client.get(f"{LIST}/{invoices.transactions.pk}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{number}.pdf"'
    assert pdf.content == b"%PDF-1.7 " + number.encode()
    csv = client.get(f"{LIST}/{invoices.transactions.pk}/lines.csv", headers=headers)
    assert csv.status_code == 200 and csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv["Content-Disposition"] == f'attachment; filename="{number}.csv"'
    assert csv.content == f"Number\r\n{number}\r\n".encode()
