"""Payment status of invoices: paid (by a platform operator, or from the bank's camt.054
credit notification), and overdue with one reminder to the buyer.

An invoice is paid once. What is due is the invoice less its credit notes; a credit
note itself is never paid (it lowers what its invoice asks). Each change locks the
invoice row, so an operator, a bank file and the overdue job acting at once change it
one after the other, and each checks the status the one before left.

The bank file is read as the payouts read theirs (``reimbursements.services.bank_returns``):
at most 5 MB, no DTD (so no entities), elements matched by local name so any version of
camt.054 is read. A transfer is matched by its structured creditor reference (RF…, the
invoice's ``payment_reference``) and marks the invoice paid only when it brings exactly
what is due, in the invoice's currency. Anything else is reported and changes nothing.
Reading the same file again changes nothing: an invoice paid by this very transfer (its
bank reference is kept in ``paid_by``) is reported as already paid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from stdnum import iso11649

from evdms.accounts import who
from evdms.accounts.models import User
from evdms.accounts.who import who_shown
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.invoicing.invoice_pdf import long_date
from evdms.invoicing.models import TOTAL_MAX, Invoice, InvoiceKind, InvoiceStatus
from evdms.notifications.services import email_send
from evdms.reimbursements.services.bank_returns import check_size
from evdms.ui import formatting

PAYABLE = (InvoiceStatus.ISSUED, InvoiceStatus.SENT, InvoiceStatus.OVERDUE)
PAID_BY_MAX = Invoice._meta.get_field("paid_by").max_length or 300
CAMT_LABEL = "camt.054"
ZERO = Decimal("0.00")


def amount_due(invoice: Invoice) -> Decimal:
    """What the buyer is to pay: the invoice incl. VAT less its credit notes."""
    credited = Invoice.objects.filter(credits=invoice).aggregate(total=Sum("total_incl_vat"))
    # In cents: SQLite's sum comes back with a dozen decimal places.
    return (invoice.total_incl_vat - (credited["total"] or ZERO)).quantize(ZERO)


def _local_date(moment: datetime | None) -> str:
    """A day as the organisation reads it (1 December 2026), in local time and the
    active language."""
    if moment is None:
        return _("an unknown day")
    return long_date(timezone.localtime(moment).date())


def _refuse_unpayable(invoice: Invoice) -> Decimal:
    """What is due on the (locked) invoice, or a refusal saying why it cannot be paid."""
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        raise ValidationError(
            {
                "invoice": [
                    _("%(number)s is a credit note: there is nothing to pay.")
                    % {"number": invoice.number}
                ]
            }
        )
    if invoice.status == InvoiceStatus.PAID:
        raise ValidationError(
            {
                "status": [
                    _("%(number)s was marked paid already on %(day)s (%(by)s).")
                    % {
                        "number": invoice.number,
                        "day": _local_date(invoice.paid_at),
                        "by": who_shown(invoice.paid_by)
                        if invoice.paid_by
                        else pgettext("who paid", "unknown"),
                    }
                ]
            }
        )
    due = amount_due(invoice)
    if due <= 0:
        raise ValidationError(
            {
                "invoice": [
                    _("%(number)s is credited in full: nothing is left to pay.")
                    % {"number": invoice.number}
                ]
            }
        )
    return due


@transaction.atomic
def invoice_mark_paid(invoice: Invoice, by: User | None = None, *, via: str = "") -> Invoice:
    """The buyer paid ``invoice`` (issued, sent or overdue). ``via`` says how, when not
    an operator's word alone (e.g. the bank's transfer). Refused with a message for an
    invoice paid already, a credit note and an invoice credited in full."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    due = _refuse_unpayable(locked)
    return _mark_paid(locked, by=by, via=via, amount=due)


def _mark_paid(
    locked: Invoice, *, by: User | None, via: str, amount: Decimal, booked: str = ""
) -> Invoice:
    # Who paid, as records keep it (``accounts.who``): shown in the reader's language.
    label = (via or (by.email if by is not None else who.SYSTEM))[:PAID_BY_MAX]
    old = locked.status
    won = Invoice.objects.filter(pk=locked.pk, status__in=PAYABLE).update(
        status=InvoiceStatus.PAID, paid_at=timezone.now(), paid_by=label
    )
    if not won:  # e.g. a status this service does not know; never a silent success
        raise ValidationError(
            {
                "status": [
                    _("%(number)s is %(status)s: not payable.")
                    % {"number": locked.number, "status": locked.get_status_display().lower()}
                ]
            }
        )
    locked.refresh_from_db()
    audit_record(
        actor=None,
        by_user=by,
        action=AuditAction.INVOICE_PAID,
        target=locked,
        organisation=locked.organisation,
        changes={
            "status": [old, InvoiceStatus.PAID],
            "paid_by": [None, label],
            "amount": [None, str(amount)],
            **({"booked": [None, booked]} if booked else {}),
        },
    )
    return locked


# --- camt.054: the bank's credit notification ----------------------------------------


@dataclass(frozen=True)
class BankCredit:
    """One transfer the bank credited to the platform's account."""

    reference: str  # the structured creditor reference, blank when it gave none
    amount: Decimal
    currency: str
    bank_reference: str  # the bank's id of the transfer: the same in every file
    booked: str  # booking date as the bank wrote it


@dataclass
class PaymentsImported:
    paid: list[str] = field(default_factory=list)  # invoice numbers paid now
    already: list[str] = field(default_factory=list)  # paid by this transfer before
    mismatched: list[str] = field(default_factory=list)  # why a transfer was not applied
    unknown: list[str] = field(default_factory=list)  # references of no invoice of ours


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: Element | None, *path: str) -> Element | None:
    current = element
    for name in path:
        if current is None:
            return None
        current = next((c for c in current if _local(c.tag) == name), None)
    return current


def _text(element: Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


RF_START = re.compile(r"RF\d\d")
REFERENCE_MAX = 25  # ISO 11649: RF, two check digits, at most 21 characters


def _reference_in_text(text: str) -> str:
    """A valid RF reference typed into free text, whole or in groups of four
    ("RF18 5390 0754 7034"), whatever surrounds it."""
    words: list[str] = re.findall(r"[0-9A-Z]+", text.upper())
    for start, word in enumerate(words):
        if not RF_START.match(word):
            continue
        candidate = word
        for following in [*words[start + 1 : start + 8], ""]:
            if len(candidate) > REFERENCE_MAX:
                break
            if iso11649.is_valid(candidate):
                return candidate
            candidate += following
    return ""


def _reference(tx: Element) -> str:
    """The structured creditor reference of a transfer; failing that, a valid RF
    reference the payer typed into the free text."""
    remittance = _child(tx, "RmtInf")
    if remittance is None:
        return ""
    for structured in _children(remittance, "Strd"):
        reference = _text(structured, "CdtrRefInf", "Ref")
        if reference:
            return "".join(reference.split()).upper()
    for free in _children(remittance, "Ustrd"):
        found = _reference_in_text(free.text or "")
        if found:
            return found
    return ""


def _amount(element: Element | None) -> tuple[Decimal, str] | None:
    if element is None:
        return None
    try:
        amount = Decimal((element.text or "").strip())
    except InvalidOperation:
        return None
    # No bank books more than an invoice can hold; a larger number is not an amount (and
    # formatting 1E+999999999 for the report would take the worker's memory).
    if not amount.is_finite() or not 0 <= amount <= TOTAL_MAX:
        return None
    return amount, element.get("Ccy", "").upper()


def _booked(entry: Element) -> bool:
    # camt.054.001.02 writes <Sts>BOOK</Sts>; from .001.08 on it is <Sts><Cd>BOOK</Cd></Sts>.
    return (_text(entry, "Sts") or _text(entry, "Sts", "Cd")) == "BOOK"


def parse_camt054_credits(content: bytes) -> list[BankCredit]:
    """The booked credit transfers of a camt.054 notification (debits, reversals and
    entries not booked yet are not payments)."""
    check_size(len(content))
    try:
        # Bank files never carry a DTD; refusing one rules out entity tricks altogether.
        root = fromstring(content, forbid_dtd=True)
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
        raise ValidationError({"file": [_("This file has a DTD; bank files have none.")]}) from exc
    except ParseError as exc:
        raise ValidationError(
            {"file": [_("This is not an XML file (%(error)s).") % {"error": exc}]}
        ) from exc
    except (LookupError, ValueError) as exc:
        # The XML declaration names an encoding the parser cannot read (unknown, not a
        # text encoding, multi-byte): Python's codecs raise these, not ParseError.
        raise ValidationError(
            {"file": [_("This is not an XML file: its encoding cannot be read; use UTF-8.")]}
        ) from exc
    message = next(iter(root), None)
    if message is None or _local(message.tag) != "BkToCstmrDbtCdtNtfctn":
        raise ValidationError(
            {"file": [_("Give the bank's debit/credit notification (camt.054).")]}
        )
    message_id = _text(message, "GrpHdr", "MsgId")
    credits = []
    for notification in _children(message, "Ntfctn"):
        for number, entry in enumerate(_children(notification, "Ntry"), start=1):
            if _text(entry, "CdtDbtInd") != "CRDT" or not _booked(entry):
                continue
            if _text(entry, "RvslInd").lower() == "true":
                continue
            booked = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")
            entry_ref = _text(entry, "AcctSvcrRef") or f"{message_id}/{number}"
            transactions = [
                tx
                for details in _children(entry, "NtryDtls")
                for tx in _children(details, "TxDtls")
            ]
            for index, tx in enumerate(transactions, start=1):
                if _text(tx, "CdtDbtInd") not in {"", "CRDT"}:
                    continue
                amount = (
                    _amount(_child(tx, "AmtDtls", "TxAmt", "Amt"))
                    or _amount(_child(tx, "Amt"))
                    or _amount(_child(tx, "AmtDtls", "InstdAmt", "Amt"))
                    or (_amount(_child(entry, "Amt")) if len(transactions) == 1 else None)
                )
                if amount is None:
                    continue
                end_to_end = _text(tx, "Refs", "EndToEndId")
                bank_reference = (
                    _text(tx, "Refs", "AcctSvcrRef")
                    or (end_to_end if end_to_end and end_to_end != "NOTPROVIDED" else "")
                    or f"{entry_ref}/{index}"
                )
                credits.append(
                    BankCredit(_reference(tx), amount[0], amount[1], bank_reference, booked)
                )
            if not transactions:
                amount = _amount(_child(entry, "Amt"))
                if amount is not None:
                    credits.append(BankCredit("", amount[0], amount[1], entry_ref, booked))
    return credits


def _apply_credit(credit: BankCredit, operator: User | None, result: PaymentsImported) -> None:
    money = formatting.money(credit.amount, credit.currency)
    if not credit.reference:
        result.unknown.append(
            _("%(bank_reference)s: %(amount)s without a reference")
            % {"bank_reference": credit.bank_reference, "amount": money}
        )
        return
    label = f"{CAMT_LABEL} {credit.bank_reference}"[:PAID_BY_MAX]
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update().filter(payment_reference=credit.reference).first()
        )
        if invoice is None:
            result.unknown.append(credit.reference)
            return
        if invoice.status == InvoiceStatus.PAID and invoice.paid_by == label:
            result.already.append(invoice.number)
            return
        try:
            due = _refuse_unpayable(invoice)
        except ValidationError as exc:
            result.mismatched.append(
                _("%(reference)s (%(amount)s): %(problem)s Not applied.")
                % {
                    "reference": credit.reference,
                    "amount": money,
                    "problem": " ".join(exc.messages),
                }
            )
            return
        if (credit.amount, credit.currency) != (due, invoice.currency):
            result.mismatched.append(
                _(
                    "%(number)s: %(due)s is due, the transfer %(bank_reference)s brought "
                    "%(amount)s. Not applied."
                )
                % {
                    "number": invoice.number,
                    "due": formatting.money(due, invoice.currency),
                    "bank_reference": credit.bank_reference,
                    "amount": money,
                }
            )
            return
        _mark_paid(invoice, by=operator, via=label, amount=due, booked=credit.booked)
        result.paid.append(invoice.number)


def invoice_payments_import(content: bytes, *, operator: User | None = None) -> PaymentsImported:
    """Apply a camt.054 file: each transfer bringing exactly what an invoice is due, by
    its structured reference, marks it paid. Each transfer is its own transaction, so one
    that is refused leaves the others applied, and the same file again changes nothing.
    A file that cannot be read is refused whole (``ValidationError`` on ``file``)."""
    result = PaymentsImported()
    for credit in parse_camt054_credits(content):
        _apply_credit(credit, operator, result)
    return result


# --- overdue --------------------------------------------------------------------------


def _credited_incl_vat() -> Subquery:
    return Subquery(
        Invoice.objects.filter(credits=OuterRef("pk"))
        .order_by()
        .values("credits")
        .annotate(total=Sum("total_incl_vat"))
        .values("total"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def overdue_candidates(today: date) -> QuerySet[Invoice]:
    """Invoices past their due date with something left to pay, not yet overdue or
    overdue but not reminded yet (the buyer had no address the last time)."""
    return (
        Invoice.objects.exclude(kind=InvoiceKind.CREDIT_NOTE)
        .filter(
            Q(status__in=[InvoiceStatus.ISSUED, InvoiceStatus.SENT], due_date__lt=today)
            | Q(status=InvoiceStatus.OVERDUE, reminded_at=None)
        )
        .annotate(credited=Coalesce(_credited_incl_vat(), Value(ZERO)))
        .filter(total_incl_vat__gt=F("credited"))
        .order_by("pk")
    )


@dataclass
class OverdueMarked:
    overdue: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)


def invoices_mark_overdue(today: date) -> OverdueMarked:
    """Mark every invoice unpaid past its due date overdue and e-mail its buyer's
    Accounts Payable one reminder. Safe to run any number of times a day: the status
    and ``reminded_at`` are each claimed by a conditional update, in one transaction
    per invoice with the reminder's outbox row."""
    result = OverdueMarked()
    for pk in overdue_candidates(today).values_list("pk", flat=True):
        with transaction.atomic():
            invoice = (
                Invoice.objects.select_for_update().select_related("buyer").filter(pk=pk).first()
            )
            if invoice is None or invoice.status not in PAYABLE:
                continue  # paid meanwhile
            due = amount_due(invoice)
            if due <= 0:
                continue  # credited in full meanwhile
            now = timezone.now()
            if Invoice.objects.filter(
                pk=pk,
                status__in=[InvoiceStatus.ISSUED, InvoiceStatus.SENT],
                due_date__lt=today,
            ).update(status=InvoiceStatus.OVERDUE, overdue_at=now):
                audit_record(
                    actor=None,
                    action=AuditAction.INVOICE_OVERDUE,
                    target=invoice,
                    organisation=invoice.organisation,
                    changes={
                        "status": [invoice.status, InvoiceStatus.OVERDUE],
                        "amount_due": [None, str(due)],
                    },
                )
                result.overdue.append(invoice.number)
            # Today's address: the one copied at issue may have changed since.
            address = invoice.buyer.accounts_payable_email or invoice.buyer_details.get("email")
            if not address:
                continue  # reminded once the buyer has an address
            if Invoice.objects.filter(pk=pk, status=InvoiceStatus.OVERDUE, reminded_at=None).update(
                reminded_at=now
            ):
                invoice.refresh_from_db()
                _remind(invoice, address, due)
                result.reminded.append(invoice.number)
    return result


def _remind(invoice: Invoice, address: str, due: Decimal) -> None:
    pdf = bytes(invoice.pdf) if invoice.pdf else b""
    email_send(
        to=[address],
        template="invoice_reminder",
        context={"invoice": invoice, "amount_due": due},
        organisation=invoice.buyer,
        attachments=[(f"{invoice.number}.pdf", pdf, "application/pdf")] if pdf else (),
    )
