"""Issuing an invoice or a credit note: parties copied, VAT applied, number allocated.

Everything happens in the caller's transaction (``invoice_issue`` is atomic and nests):
the number comes from the series row read under a lock, so the transaction that issues
the invoice is the one that takes its number, and a rollback or a crash gives the
number back. Numbers are therefore gapless per series (one series per kind and year).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from stdnum.iso7064 import mod_97_10

from evdms.accounts.models import Organisation, User
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.bulk import insert_rows
from evdms.invoicing.models import (
    SERIES_PREFIX,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeries,
    InvoiceStatus,
    InvoiceVat,
)
from evdms.invoicing.vat import Parties, Totals, Treatment, line_net, totals, treatment_for

DESCRIPTION_MAX = InvoiceLine._meta.get_field("description").max_length or 300
# The columns written per line and per VAT row (every one of the models' but the id).
LINE_FIELDS = (
    "invoice",
    "position",
    "source",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "net_amount",
    "vat_category",
    "vat_rate",
    "vat_exemption_reason",
    "session",
    "credited_session",
    "payout_line",
    "job",
    "credits_line",
    "driver",
    "driver_name",
    "verification_1",
    "verification_2",
    "customer_id",
    "occurred_at",
    "place",
    "energy_wh",
)
VAT_FIELDS = (
    "invoice",
    "category",
    "rate",
    "basis",
    "amount",
    "exemption_reason",
    "exemption_code",
)


# Not frozen: a frozen dataclass sets each of these fields through object.__setattr__,
# and the monthly run makes one per public session (four times the cost of slots).
@dataclass(slots=True)
class DraftLine:
    """A line to issue (not to be changed once made). ``net_amount`` given: used as it
    is (whole cents, e.g. what was paid to a driver); otherwise quantity × unit price,
    rounded once. ``treatment`` given: kept (a credit note repeats its invoice's);
    otherwise from the parties, with ``pass_through`` for amounts paid in the buyer's
    name."""

    source: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = "C62"
    net_amount: Decimal | None = None
    pass_through: bool = False
    treatment: Treatment | None = None
    session_id: int | None = None
    credited_session_id: int | None = None
    payout_line_id: int | None = None
    job_id: int | None = None
    credits_line_id: int | None = None
    driver_id: int | None = None
    driver_name: str = ""
    verification_1: str = ""
    verification_2: str = ""
    customer_id: str = ""
    occurred_at: datetime | None = None
    place: str = ""
    energy_wh: int | None = None


def seller_details() -> dict[str, str]:
    return {
        "name": settings.INVOICE_SELLER_NAME,
        "address": settings.INVOICE_SELLER_ADDRESS,
        "postcode": settings.INVOICE_SELLER_POSTCODE,
        "city": settings.INVOICE_SELLER_CITY,
        "country": settings.INVOICE_SELLER_COUNTRY,
        "vat_number": settings.INVOICE_SELLER_VAT_NUMBER,
        "email": settings.INVOICE_SELLER_EMAIL,
        "iban": settings.INVOICE_SELLER_IBAN,
        "bic": settings.INVOICE_SELLER_BIC,
    }


def buyer_of(organisation: Organisation) -> Organisation:
    """Who is invoiced for an organisation's charges: itself, or the payer it named as
    long as its grant of rights to that payer stands. Once the grant is revoked the
    organisation is invoiced itself again, though the named payer is still stored."""
    if organisation.invoice_payer_id is None:
        return organisation
    granted = organisation.grants_given.filter(
        grantee_id=organisation.invoice_payer_id, revoked_at__isnull=True
    ).exists()
    if not granted:
        return organisation
    return organisation.invoice_payer or organisation


def buyer_details(buyer: Organisation) -> dict[str, str]:
    return {
        "name": buyer.billing_name or buyer.name,
        "address": buyer.billing_address,
        "postcode": buyer.billing_postcode,
        "city": buyer.billing_city,
        "country": buyer.billing_country,
        "vat_number": buyer.vat_number,
        "email": buyer.accounts_payable_email,
        "purchase_order_reference": buyer.purchase_order_reference,
    }


def parties_for(buyer: Organisation) -> Parties:
    return Parties(
        seller_country=settings.INVOICE_SELLER_COUNTRY,
        buyer_country=buyer.billing_country,
        buyer_vat_number=buyer.vat_number,
        standard_rate=settings.INVOICE_STANDARD_VAT_RATE,
    )


def payment_reference(number: str) -> str:
    """The ISO 11649 creditor reference of an invoice number: RF, two check digits, the
    number's letters and digits (TRX-2026-000017 → RF..TRX2026000017)."""
    body = "".join(ch for ch in number.upper() if ch.isalnum())[:21]
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def _allocate_number(kind: str, year: int) -> str:
    """The next number of the kind's series for the year, taken under the series' row
    lock inside the issuing transaction."""
    key = f"{SERIES_PREFIX[InvoiceKind(kind)]}-{year}"
    series = InvoiceSeries.objects.select_for_update().filter(key=key).first()
    if series is None:
        try:
            with transaction.atomic():  # a savepoint: another issuer may create it first
                InvoiceSeries.objects.create(key=key)
        except IntegrityError:
            pass
        series = InvoiceSeries.objects.select_for_update().get(key=key)
    number = series.next_number
    InvoiceSeries.objects.filter(pk=series.pk).update(next_number=number + 1)
    return f"{key}-{number:06d}"


def _with_vat_amounts(summed: Totals, amounts: Mapping[tuple[str, Decimal], Decimal]) -> Totals:
    breakdown = tuple(
        replace(row, amount=amounts.get((row.category, row.rate), row.amount))
        for row in summed.breakdown
    )
    vat = sum((row.amount for row in breakdown), Decimal(0))
    return Totals(summed.excl_vat, vat, summed.excl_vat + vat, breakdown)


@transaction.atomic
def invoice_issue(
    *,
    organisation: Organisation,
    kind: str,
    month: date,
    lines: Sequence[DraftLine],
    driver: User | None = None,
    credits: Invoice | None = None,
    credit_reason: str = "",
    issue_date: date | None = None,
    issued_by: str = "",
    vat_amounts: Mapping[tuple[str, Decimal], Decimal] | None = None,
) -> Invoice:
    """Issue one invoice (or, with ``credits``, a credit note) with these lines. The
    unique constraints refuse a second invoice for the same month and a source billed
    twice (``IntegrityError``, the transaction rolls back, the number with it).
    ``vat_amounts``: a credit note's VAT per (category, rate), where crediting part of
    an invoice must not round to more VAT than is left (``services.credit_notes``)."""
    issue_date = issue_date or timezone.localdate()
    buyer = credits.buyer if credits is not None else buyer_of(organisation)
    parties = parties_for(buyer)
    rows: list[tuple[Any, ...]] = []
    priced: list[tuple[Decimal, Treatment]] = []
    # The parties' treatment depends on nothing else but pass_through: once each.
    treatments = {flag: treatment_for(parties, pass_through=flag) for flag in (False, True)}
    for position, draft in enumerate(lines, start=1):
        treatment = draft.treatment or treatments[draft.pass_through]
        net = (
            draft.net_amount
            if draft.net_amount is not None
            else line_net(draft.quantity, draft.unit_price)
        )
        priced.append((net, treatment))
        # In the order of LINE_FIELDS, the invoice's id in front once it has one.
        rows.append(
            (
                position,
                draft.source,
                draft.description[:DESCRIPTION_MAX],
                draft.quantity,
                draft.unit,
                draft.unit_price,
                net,
                treatment.category,
                treatment.rate,
                treatment.exemption_reason,
                draft.session_id,
                draft.credited_session_id,
                draft.payout_line_id,
                draft.job_id,
                draft.credits_line_id,
                draft.driver_id,
                draft.driver_name[:300],
                draft.verification_1[:100],
                draft.verification_2[:100],
                draft.customer_id[:100],
                draft.occurred_at,
                draft.place[:300],
                draft.energy_wh,
            )
        )
    summed = totals(priced)
    if vat_amounts:
        summed = _with_vat_amounts(summed, vat_amounts)
    kind_to_number = InvoiceKind.CREDIT_NOTE if credits is not None else kind
    number = _allocate_number(kind_to_number, issue_date.year)
    invoice = Invoice.objects.create(
        number=number,
        kind=kind_to_number,
        organisation=organisation,
        buyer=buyer,
        month=month.replace(day=1),
        driver=driver,
        credits=credits,
        credit_reason=credit_reason[:300],
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=settings.INVOICE_PAYMENT_DAYS),
        # A credit note is in the currency of the invoice it corrects.
        currency=credits.currency if credits is not None else organisation.currency,
        total_excl_vat=summed.excl_vat,
        total_vat=summed.vat,
        total_incl_vat=summed.incl_vat,
        payment_reference=payment_reference(number),
        seller=seller_details(),
        buyer_details=buyer_details(buyer),
        status=InvoiceStatus.CREDIT if credits is not None else InvoiceStatus.ISSUED,
    )
    # Plain rows, not model instances: the invoice run's Transactions invoices have a
    # line per session, and bulk_create spent more on them than the rest of the run.
    insert_rows(InvoiceLine, LINE_FIELDS, ((invoice.pk, *row) for row in rows))
    insert_rows(
        InvoiceVat,
        VAT_FIELDS,
        (
            (
                invoice.pk,
                row.category,
                row.rate,
                row.basis,
                row.amount,
                row.exemption_reason,
                row.exemption_code,
            )
            for row in summed.breakdown
        ),
    )
    audit_record(
        actor=None,
        action=AuditAction.CREDIT_NOTE_ISSUE if credits is not None else AuditAction.INVOICE_ISSUE,
        target=invoice,
        organisation=organisation,
        changes={
            "total_incl_vat": [None, str(invoice.total_incl_vat)],
            **({"issued_by": [None, issued_by]} if issued_by else {}),
        },
    )
    return invoice
