"""Platform operators' invoicing API (operator keys): credit notes and payment status.

Operators act on every organisation's invoices, so these operations take an operator key
(``evdmsop_…``) and no organisation key reaches them (403). Refusals are the services'
own field-level messages (422); an invoice that does not exist is 404.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, File, Router, Schema, Status
from ninja.files import UploadedFile

from evdms.invoicing.models import Invoice, InvoiceLine
from evdms.invoicing.services.credit_notes import credit_note_issue
from evdms.invoicing.services.payments import (
    amount_due,
    invoice_mark_paid,
    invoice_payments_import,
)
from evdms.reimbursements.services.bank_returns import check_size
from evdms.ui.api import operator_only
from evdms.ui.http import OperatorApiRequest

router = Router(tags=["invoicing (operators)"])
# The largest id a database row can have (a 64-bit integer): a larger one is no line.
ID_MAX = 2**63 - 1


class CreditLineIn(Schema):
    line_id: int = Field(ge=1, le=ID_MAX, description="the id of a line of the invoice")
    amount: Decimal = Field(description="net amount to credit, excl. VAT, in whole cents")


class CreditNoteIn(Schema):
    reason: str = Field(description="why the invoice is credited (on the credit note)")
    lines: list[CreditLineIn] | None = Field(
        default=None, description="the lines and amounts to credit; leave out to credit in full"
    )


class CreditNoteLineOut(Schema):
    id: int
    position: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    net_amount: Decimal
    vat_category: str
    vat_rate: Decimal
    credits_line_id: int | None


class CreditNoteVatOut(Schema):
    category: str
    rate: Decimal
    basis: Decimal
    amount: Decimal


class InvoiceStatusOut(Schema):
    id: int
    number: str
    kind: str
    status: str
    organisation_id: int
    buyer_id: int
    month: date
    issue_date: date
    due_date: date
    currency: str
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    amount_due: Decimal
    payment_reference: str
    credits_id: int | None
    credits_number: str | None
    credit_reason: str
    paid_at: datetime | None
    paid_by: str


class IssuedCreditNoteOut(InvoiceStatusOut):
    lines: list[CreditNoteLineOut]
    vat: list[CreditNoteVatOut]


class PaymentsImportOut(Schema):
    paid: list[str] = Field(description="invoice numbers marked paid by this file")
    already: list[str] = Field(description="invoices this very transfer paid before")
    mismatched: list[str] = Field(description="transfers not applied, and why")
    unknown: list[str] = Field(description="references of no invoice of ours")


def _status_out(invoice: Invoice) -> dict[str, Any]:
    credits = invoice.credits
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "kind": invoice.kind,
        "status": invoice.status,
        "organisation_id": invoice.organisation_id,
        "buyer_id": invoice.buyer_id,
        "month": invoice.month,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "currency": invoice.currency,
        "total_excl_vat": invoice.total_excl_vat,
        "total_vat": invoice.total_vat,
        "total_incl_vat": invoice.total_incl_vat,
        # A credit note asks nothing: it lowers what its invoice asks.
        "amount_due": Decimal("0.00") if credits is not None else amount_due(invoice),
        "payment_reference": invoice.payment_reference,
        "credits_id": invoice.credits_id,
        "credits_number": credits.number if credits is not None else None,
        "credit_reason": invoice.credit_reason,
        "paid_at": invoice.paid_at,
        "paid_by": invoice.paid_by,
    }


def _credit_note_out(note: Invoice) -> dict[str, Any]:
    return {
        **_status_out(note),
        "lines": list(note.lines.order_by("position")),
        "vat": list(note.vat_lines.all()),
    }


def _invoice(invoice_id: int) -> Invoice:
    return get_object_or_404(Invoice.objects.select_related("credits"), pk=invoice_id)


@router.post(
    "/invoices/{invoice_id}/credit-notes", response={201: IssuedCreditNoteOut}, auth=operator_only
)
def invoice_credit_notes_create(
    request: OperatorApiRequest, invoice_id: int, data: CreditNoteIn
) -> Status[dict[str, Any]]:
    """Credit an invoice in full (no ``lines``) or in part (net amounts per line). The
    credit note is numbered in its own series (CRN-YYYY-nnnnnn) and takes each credited
    line's VAT. Refused (422, nothing written) for more than is left, an amount that is
    not positive, or a credit note of a credit note."""
    invoice = _invoice(invoice_id)
    pairs: list[tuple[InvoiceLine, Decimal]] | None = None
    if data.lines is not None:
        ids = [item.line_id for item in data.lines]
        found = InvoiceLine.objects.filter(invoice=invoice, pk__in=ids).in_bulk()
        missing = [f"Line {pk} is not a line of {invoice.number}." for pk in ids if pk not in found]
        if missing:
            raise ValidationError({"lines": missing})
        pairs = [(found[item.line_id], item.amount) for item in data.lines]
    note = credit_note_issue(
        invoice=invoice, lines=pairs, reason=data.reason, issued_by=request.operator
    )
    return Status(201, _credit_note_out(_invoice(note.pk)))


@router.post("/invoices/{invoice_id}/paid", response=InvoiceStatusOut, auth=operator_only)
def invoice_paid(request: OperatorApiRequest, invoice_id: int) -> dict[str, Any]:
    """The buyer paid the invoice (issued, sent or overdue). Marking it paid twice is
    refused (422) and says when and by whom it was; a credit note is never paid."""
    invoice = invoice_mark_paid(invoice=_invoice(invoice_id), by=request.operator)
    return _status_out(_invoice(invoice.pk))


@router.post("/invoice-payments", response=PaymentsImportOut, auth=operator_only)
def invoice_payments_upload(
    request: OperatorApiRequest, file: File[UploadedFile]
) -> dict[str, Any]:
    """The bank's camt.054 credit notification (at most 5 MB): each transfer that
    brings exactly what an invoice is due, by its structured reference (RF…), marks it
    paid; the others are reported and change nothing. Sending the same file again
    changes nothing."""
    check_size(file.size or 0)  # before reading it
    result = invoice_payments_import(content=file.read(), operator=request.operator)
    return vars(result)
