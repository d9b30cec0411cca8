"""Credit notes: the only correction of an issued invoice, in full or in part.

A credit note names the invoice it corrects (``Invoice.credits``) and, per line, the
invoice line it reduces (``InvoiceLine.credits_line``), with that line's VAT category and
rate. It is numbered in its own series (CRN-YYYY-nnnnnn) by ``invoice_issue``. What is
left to credit is the invoice minus every earlier credit note of it, per line and in
total; the invoice row is locked while that is read and the credit note written, so two
operators crediting the same invoice at once cannot together credit more than it holds.

VAT of a partial credit. The invoice's VAT is rounded once per category and rate, on
the sum of its lines (EN 16931). Rounding each partial credit's basis the same way could
credit a cent more VAT than the invoice charged (21 % of 0.03 rounds to 0.01 twice,
while 21 % of 0.06 is 0.01). So a credit note credits, per category and rate, the VAT of
what is left before it minus the VAT of what is left after it, both rounded half up:

    credited VAT = left VAT − cents((left basis − credited basis) × rate)

What is left therefore always carries exactly the rounded VAT of its basis, a credit
never credits more VAT than is left, the credits of an invoice credited in full add up
to its VAT to the cent, and each credit differs from the plain rounding of its own
basis by a cent at most.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import translation
from django.utils.translation import gettext as _

from evdms.accounts.models import User
from evdms.invoicing.models import (
    TOTAL_MAX,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceVat,
    LineSource,
)
from evdms.invoicing.services.issue import DraftLine, invoice_issue
from evdms.invoicing.vat import ZERO, Treatment, cents
from evdms.ui import formatting
from evdms.ui.language import user_language

REASON_MAX = 300
CENT = Decimal("0.01")

VatKey = tuple[str, Decimal]


@dataclass(frozen=True)
class CreditLeft:
    """What can still be credited on an invoice: per line (net), per VAT category and
    rate (basis, VAT) and in total."""

    lines: dict[int, Decimal]  # invoice line id → net amount left
    basis: dict[VatKey, Decimal]
    vat: dict[VatKey, Decimal]
    excl_vat: Decimal
    incl_vat: Decimal


def credit_left(invoice: Invoice) -> CreditLeft:
    """The invoice less every credit note of it. Four queries, whatever the size."""
    credited_lines = dict(
        InvoiceLine.objects.filter(invoice__credits=invoice, credits_line__isnull=False)
        .values("credits_line")
        .annotate(total=Sum("net_amount"))
        .values_list("credits_line", "total")
    )
    lines = {
        line_id: net - (credited_lines.get(line_id) or ZERO)
        for line_id, net in invoice.lines.values_list("pk", "net_amount")
    }
    basis: dict[VatKey, Decimal] = {}
    vat: dict[VatKey, Decimal] = {}
    for row in InvoiceVat.objects.filter(invoice=invoice):
        key = (row.category, row.rate)
        basis[key] = basis.get(key, ZERO) + row.basis
        vat[key] = vat.get(key, ZERO) + row.amount
    for row in InvoiceVat.objects.filter(invoice__credits=invoice):
        key = (row.category, row.rate)
        basis[key] = basis.get(key, ZERO) - row.basis
        vat[key] = vat.get(key, ZERO) - row.amount
    credited = Invoice.objects.filter(credits=invoice).aggregate(
        excl=Sum("total_excl_vat"), incl=Sum("total_incl_vat")
    )
    return CreditLeft(
        lines=lines,
        basis=basis,
        vat=vat,
        excl_vat=invoice.total_excl_vat - (credited["excl"] or ZERO),
        incl_vat=invoice.total_incl_vat - (credited["incl"] or ZERO),
    )


def credit_vat(
    *, left_basis: Decimal, left_vat: Decimal, credited_basis: Decimal, rate: Decimal
) -> Decimal:
    """The VAT a credit of ``credited_basis`` at ``rate`` credits: the VAT of what is
    left before it less the VAT of what is left after it (see the module's docstring),
    so what is left keeps exactly the rounded VAT of its basis."""
    return left_vat - cents((left_basis - credited_basis) * rate / 100)


def _money(invoice: Invoice, amount: Decimal) -> str:
    return formatting.money(amount, invoice.currency)


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": ["Say why the invoice is credited."]})
    # The reason prints on the credit note: a control or format character (a NUL, which
    # PostgreSQL cannot store, or a right-to-left override) is refused, as in billing
    # details.
    for char in reason:
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"}:
            raise ValidationError(
                {"reason": [f"Remove the control character {char!r}: use plain text."]}
            )
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [f"At most {REASON_MAX} characters."]})
    return reason


def _checked_lines(
    invoice: Invoice,
    wanted: Sequence[tuple[InvoiceLine, Decimal]],
    left: CreditLeft,
) -> list[tuple[InvoiceLine, Decimal]]:
    """The requested (line, amount) pairs, each refused with a message naming the line
    when it cannot be credited."""
    if not wanted:
        raise ValidationError(
            {"lines": ["Give at least one line to credit, or none to credit the whole invoice."]}
        )
    errors: list[str] = []
    seen: set[int] = set()
    checked = []
    for line, amount in wanted:
        if line.invoice_id != invoice.pk:
            errors.append(f"Line {line.pk} is not a line of {invoice.number}.")
            continue
        label = f"Line {line.position} ({line.description})"
        if line.pk in seen:
            errors.append(f"{label} is given twice; give it once with the whole amount.")
            continue
        seen.add(line.pk)
        if not isinstance(amount, Decimal) or not amount.is_finite():
            errors.append(f"{label}: give the amount as a number, e.g. 12.50.")
            continue
        if amount <= 0:
            errors.append(f"{label}: the amount to credit must be more than zero.")
            continue
        if amount > TOTAL_MAX:  # and no rounding of a number this large can fail below
            errors.append(f"{label}: at most {TOTAL_MAX} can be credited.")
            continue
        if amount != amount.quantize(CENT):
            errors.append(f"{label}: give the amount in whole cents, e.g. 12.50.")
            continue
        if line.net_amount <= 0:
            errors.append(f"{label} is a deduction already; it cannot be credited.")
            continue
        remaining = left.lines.get(line.pk, ZERO)
        if amount > remaining:
            errors.append(
                f"{label} has {_money(invoice, remaining)} left to credit; "
                f"{_money(invoice, amount)} is more."
            )
            continue
        checked.append((line, amount))
    if errors:
        raise ValidationError({"lines": errors})
    return checked


@transaction.atomic
def credit_note_issue(
    invoice: Invoice,
    *,
    lines: Sequence[tuple[InvoiceLine, Decimal]] | None = None,
    reason: str,
    issued_by: User | str | None = None,
    issue_date: date | None = None,
) -> Invoice:
    """Credit ``invoice``: in full (``lines`` None: everything left on every line) or
    in part (each (invoice line, net amount excl. VAT) given). Refused with a message
    per field, writing nothing, for a credit note of a credit note, an amount that is
    not positive, and more than is left on a line, at a VAT rate or on the invoice.
    ``issued_by``: the operator, or words for who issued it (e.g. "demo data")."""
    reason = _reason(reason)
    # Locked first: the credit left is read and the credit note written under the lock.
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.kind == InvoiceKind.CREDIT_NOTE:
        corrected = locked.credits
        assert corrected is not None  # a database constraint: a credit note credits one
        raise ValidationError(
            {
                "invoice": [
                    f"{locked.number} is a credit note; a credit note cannot be credited. "
                    f"Credit the invoice it corrects ({corrected.number}) instead."
                ]
            }
        )
    left = credit_left(locked)
    invoice_lines = {line.pk: line for line in locked.lines.order_by("position")}
    if lines is None:
        wanted = [
            (line, left.lines[pk]) for pk, line in invoice_lines.items() if left.lines[pk] != 0
        ]
        if not wanted or left.excl_vat <= 0:
            raise ValidationError(
                {
                    "lines": [
                        f"Nothing is left to credit on {locked.number}: it is credited in full."
                    ]
                }
            )
        full = True
    else:
        wanted = _checked_lines(locked, lines, left)
        full = False

    credited_basis: dict[VatKey, Decimal] = {}
    for line, amount in wanted:
        key = (line.vat_category, line.vat_rate)
        credited_basis[key] = credited_basis.get(key, ZERO) + amount
    if not full:
        # Deductions on the invoice (e.g. a credited session) lower what is left at their
        # rate below the sum of its positive lines.
        errors = [
            f"At {rate}% VAT ({category}) {_money(locked, left.basis.get((category, rate), ZERO))} "
            f"is left to credit; {_money(locked, amount)} is more."
            for (category, rate), amount in credited_basis.items()
            if amount > left.basis.get((category, rate), ZERO)
        ]
        total = sum(credited_basis.values(), ZERO)
        if total > left.excl_vat:
            errors.append(
                f"{locked.number} has {_money(locked, left.excl_vat)} excl. VAT left to credit; "
                f"{_money(locked, total)} is more."
            )
        if errors:
            raise ValidationError({"lines": errors})

    vat_amounts = {
        key: credit_vat(
            left_basis=left.basis.get(key, ZERO),
            left_vat=left.vat.get(key, ZERO),
            credited_basis=basis,
            rate=key[1],
        )
        for key, basis in credited_basis.items()
    }
    exemption_codes = dict(
        ((row.category, row.rate), row.exemption_code) for row in locked.vat_lines.all()
    )
    # Written in the organisation's language, as its invoices' lines are (run.py).
    with translation.override(user_language(None, locked.organisation)):
        drafts = [
            _draft(line, amount, exemption_codes.get((line.vat_category, line.vat_rate), ""))
            for line, amount in wanted
        ]
    return invoice_issue(
        organisation=locked.organisation,
        kind=locked.kind,
        month=locked.month,
        lines=drafts,
        credits=locked,
        credit_reason=reason,
        issued_by=issued_by.email if isinstance(issued_by, User) else (issued_by or ""),
        vat_amounts=vat_amounts,
        issue_date=issue_date,
    )


def _draft(line: InvoiceLine, amount: Decimal, exemption_code: str) -> DraftLine:
    whole = amount == line.net_amount
    return DraftLine(
        source=LineSource.CREDIT,
        description=_("Credit: %(line)s") % {"line": line.description},
        # A line credited whole repeats its quantity and price; a part is one unit of
        # the amount, so quantity × price is the line's net amount either way.
        quantity=line.quantity if whole else Decimal(1),
        unit=line.unit if whole else "C62",
        unit_price=line.unit_price if whole else amount,
        net_amount=amount,
        treatment=Treatment(
            line.vat_category, line.vat_rate, line.vat_exemption_reason, exemption_code
        ),
        credits_line_id=line.pk,
        job_id=line.job_id,
        driver_id=line.driver_id,
        driver_name=line.driver_name,
        verification_1=line.verification_1,
        verification_2=line.verification_2,
        customer_id=line.customer_id,
        occurred_at=line.occurred_at,
        place=line.place,
        energy_wh=line.energy_wh if whole else None,
    )
