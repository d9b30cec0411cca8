"""Demo invoicing: billing details and a fee schedule for each demo organisation that is
invoiced, the monthly run for the last three closed months (Bundle, Services and
Transactions invoices, as the scheduler would have issued them), then one partial credit
note, what is due paid but for one invoice, which the overdue job marks overdue.

Voltlease is a Dutch buyer (standard VAT); Acme Logistics a Belgian business with a VAT
number (reverse charge); Northwind Foods named Voltlease, which it granted rights, as its
payer, so its charges are invoiced to Voltlease.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from evdms.accounts.models import Organisation
from evdms.invoicing.models import FeeBasis, FeeSchedule, Invoice, InvoiceKind, InvoiceStatus
from evdms.invoicing.services.credit_notes import credit_note_issue
from evdms.invoicing.services.fees import fee_schedule_create
from evdms.invoicing.services.payments import invoice_mark_paid, invoices_mark_overdue
from evdms.invoicing.services.run import invoices_run

# slug → billing details (trusted demo values, written as they are)
BILLING = {
    "voltlease": {
        "billing_name": "Voltlease B.V.",
        "billing_address": "Stationsplein 12",
        "billing_postcode": "3511 ED",
        "billing_city": "Utrecht",
        "billing_country": "NL",
        "vat_number": "NL853746333B01",
        "purchase_order_reference": "PO-2026-EV-001",
    },
    "acme-logistics": {
        "billing_name": "Acme Logistics NV",
        "billing_address": "Havenlaan 86",
        "billing_postcode": "1000",
        "billing_city": "Brussel",
        "billing_country": "BE",
        "vat_number": "BE0403170701",
    },
    "northwind-foods": {
        "billing_name": "Northwind Foods B.V.",
        "billing_address": "Keizersgracht 101",
        "billing_postcode": "1015 CJ",
        "billing_city": "Amsterdam",
        "billing_country": "NL",
    },
}

MONTHS_INVOICED = 3


def _first_of_months_ago(months: int) -> date:
    month = timezone.localdate().replace(day=1)
    for _ in range(months):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _billing_and_fees() -> None:
    valid_from = _first_of_months_ago(12)
    organisations = Organisation.objects.filter(slug__in=BILLING).order_by("slug")
    for organisation in organisations:
        Organisation.objects.filter(pk=organisation.pk, billing_name="").update(
            **BILLING[organisation.slug]
        )
        if not FeeSchedule.objects.filter(organisation=organisation).exists():
            fee_schedule_create(
                actor_label="demo",
                organisation=organisation,
                valid_from=valid_from,
                driver_fee=Decimal("4.95"),
                driver_fee_pro_rata=organisation.slug != "acme-logistics",
                warranty_fee=Decimal("2.50"),
                reimbursement_fee_basis=FeeBasis.PER_ITEM,
                reimbursement_fee=Decimal("0.45"),
                public_fee_basis=FeeBasis.PERCENT,
                public_fee=Decimal("5"),
            )
    payer = Organisation.objects.filter(slug="voltlease").first()
    if payer is not None:
        Organisation.objects.filter(slug="northwind-foods", invoice_payer=None).update(
            invoice_payer=payer
        )


def seed_invoicing() -> int:
    """Create the demo's invoices once; returns how many were issued (0 when there are
    invoices already)."""
    if Invoice.objects.exists():
        return 0
    _billing_and_fees()
    oldest = _first_of_months_ago(MONTHS_INVOICED)
    month = oldest
    issued = 0
    for _ in range(MONTHS_INVOICED):
        issued += invoices_run(month, issue_date=_next_month(month)).issued
        month = _next_month(month)
    latest = Invoice.objects.filter(kind=InvoiceKind.SERVICES).order_by("-month", "number")
    services = latest.first()
    if services is not None:
        line = services.lines.order_by("position").first()
        if line is not None and line.net_amount > 0:
            credit_note_issue(
                services,
                lines=[(line, (line.net_amount / 2).quantize(Decimal("0.01")))],
                reason="Driver counted in two programmes in the same month",
                issued_by="demo",
            )
    # What is due is paid, but for one Transactions invoice, which falls overdue.
    today = timezone.localdate()
    due = Invoice.objects.filter(due_date__lt=today).exclude(kind=InvoiceKind.CREDIT_NOTE)
    unpaid = due.filter(kind=InvoiceKind.TRANSACTIONS).order_by("-month", "number").first()
    for invoice in due.order_by("number"):
        if invoice != unpaid and invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.SENT):
            invoice_mark_paid(invoice, via="demo bank transfer")
    invoices_mark_overdue(today)
    return issued
