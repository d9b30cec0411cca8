"""The organisation's invoices over the API: /api/v1/invoices (Network Manager, Analyst).

The list is paged like every other list (``offset``, ``limit``) with the page's filters
(``kind``, ``month`` as YYYY-MM, ``status``); a bad filter is a 422 naming it, where the
page drops it with a message. Amounts are decimal strings, as everywhere in the API.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Query, Router, Schema

from evdms.accounts.permissions import Actor, Permission
from evdms.invoicing import downloads
from evdms.invoicing.access import get_invoice_for
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, InvoiceVat
from evdms.invoicing.selectors import (
    InvoiceQuery,
    invoice_lines,
    invoice_related,
    invoice_vat_lines,
    invoices_for,
    parse_invoice_query,
)
from evdms.invoicing.services.payments import amount_due
from evdms.ui.api import check_page, page_of, requires
from evdms.ui.http import ApiRequest

router = Router(tags=["invoicing"])


class InvoiceFilters(Schema):
    kind: str = ""
    month: str = ""
    status: str = ""


class InvoiceOut(Schema):
    id: int
    number: str
    kind: str
    # Whose charges (organisation) and who is invoiced (buyer): the same, unless the
    # organisation named a payer.
    organisation_id: int
    buyer_id: int
    month: date
    driver_email: str | None  # a Bundle invoice's driver
    credits_id: int | None  # a credit note's invoice
    issue_date: date
    due_date: date
    currency: str
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    status: str
    payment_reference: str


class InvoicePage(Schema):
    count: int
    offset: int
    limit: int
    items: list[InvoiceOut]


class PartyOut(Schema):
    name: str = ""
    address: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    vat_number: str = ""
    email: str = ""


class SellerOut(PartyOut):
    iban: str = ""
    bic: str = ""


class BuyerOut(PartyOut):
    purchase_order_reference: str = ""


class InvoiceLineOut(Schema):
    position: int
    source: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    net_amount: Decimal
    vat_category: str
    vat_rate: Decimal
    vat_exemption_reason: str
    occurred_at: datetime | None
    driver_name: str
    verification_1: str
    verification_2: str
    customer_id: str
    place: str
    energy_wh: int | None


class InvoiceVatOut(Schema):
    category: str
    rate: Decimal
    basis: Decimal
    amount: Decimal
    exemption_reason: str
    exemption_code: str


class CreditNoteOut(Schema):
    id: int
    number: str
    issue_date: date
    total_incl_vat: Decimal
    credit_reason: str


class InvoiceDetail(InvoiceOut):
    # What is still to pay: the total less its credit notes (0 for a credit note); a
    # transfer pays the invoice when it brings exactly this.
    amount_due: Decimal
    credit_reason: str
    seller: SellerOut
    buyer: BuyerOut
    sent_at: datetime | None
    paid_at: datetime | None
    lines: list[InvoiceLineOut]
    vat_breakdown: list[InvoiceVatOut]
    credit_notes: list[CreditNoteOut]


def _one_of(values: list[str]) -> str:
    return ": use " + ", ".join(values[:-1]) + " or " + values[-1]


_ALLOWED = {"kind": _one_of(InvoiceKind.values), "status": _one_of(InvoiceStatus.values)}


def _query(filters: InvoiceFilters) -> InvoiceQuery:
    """The API is strict where the page is forgiving: a bad filter is a 422 naming it."""
    query = parse_invoice_query(filters.dict())
    if query.errors:
        raise ValidationError(
            {
                name: [f"{problem}{_ALLOWED.get(name, '')}."]
                for name, problem in query.errors.items()
            }
        )
    return query


def _out(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "kind": invoice.kind,
        "organisation_id": invoice.organisation_id,
        "buyer_id": invoice.buyer_id,
        "month": invoice.month,
        "driver_email": invoice.driver.email if invoice.driver else None,
        "credits_id": invoice.credits_id,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "currency": invoice.currency,
        "total_excl_vat": invoice.total_excl_vat,
        "total_vat": invoice.total_vat,
        "total_incl_vat": invoice.total_incl_vat,
        "status": invoice.status,
        "payment_reference": invoice.payment_reference,
    }


def _line(line: InvoiceLine) -> dict[str, Any]:
    return {name: getattr(line, name) for name in InvoiceLineOut.model_fields}


def _vat(row: InvoiceVat) -> dict[str, Any]:
    return {name: getattr(row, name) for name in InvoiceVatOut.model_fields}


@router.get("/invoices", response=InvoicePage, auth=requires(Permission.VIEW_INVOICES))
def invoices_list(
    request: ApiRequest,
    filters: Query[InvoiceFilters],
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """The platform's invoices to the organisation and those of its charges it did not
    pay itself, newest first. ``kind``: bundle, services, transactions, credit_note;
    ``month``: the month invoiced, YYYY-MM; ``status``: issued, sent, paid, overdue,
    credit."""
    actor: Actor = request.auth
    check_page(offset, limit)
    rows = invoices_for(actor, _query(filters))
    return {**page_of(rows, offset, limit, _out), "offset": offset, "limit": limit}


@router.get(
    "/invoices/{invoice_id}", response=InvoiceDetail, auth=requires(Permission.VIEW_INVOICES)
)
def invoices_read(request: ApiRequest, invoice_id: int) -> dict[str, Any]:
    """One invoice with its parties as issued, every line, the VAT breakdown (one row
    per category and rate) and its credit notes."""
    actor: Actor = request.auth
    invoice = get_invoice_for(actor, invoice_id)
    return {
        **_out(invoice),
        "amount_due": Decimal("0.00")
        if invoice.kind == InvoiceKind.CREDIT_NOTE
        else amount_due(invoice),
        "credit_reason": invoice.credit_reason,
        "seller": invoice.seller,
        "buyer": invoice.buyer_details,
        "sent_at": invoice.sent_at,
        "paid_at": invoice.paid_at,
        "lines": [_line(line) for line in invoice_lines(invoice)],
        "vat_breakdown": [_vat(row) for row in invoice_vat_lines(invoice)],
        "credit_notes": [
            {
                "id": note.pk,
                "number": note.number,
                "issue_date": note.issue_date,
                "total_incl_vat": note.total_incl_vat,
                "credit_reason": note.credit_reason,
            }
            for note in invoice_related(actor, invoice)
        ],
    }


@router.get("/invoices/{invoice_id}/pdf", auth=requires(Permission.VIEW_INVOICES))
def invoices_pdf(request: ApiRequest, invoice_id: int) -> HttpResponse:
    """The invoice as PDF with its EN 16931 e-invoice embedded (Factur-X)."""
    return downloads.pdf_response(get_invoice_for(request.auth, invoice_id))


@router.get("/invoices/{invoice_id}/lines.csv", auth=requires(Permission.VIEW_INVOICES))
def invoices_lines_csv(request: ApiRequest, invoice_id: int) -> HttpResponse:
    """The invoice's lines as CSV (a Transactions invoice: every session)."""
    return downloads.lines_csv_response(get_invoice_for(request.auth, invoice_id))
