"""Credit notes correct issued invoices, in full or in part, to the cent; never more than
is left, never of a credit note, numbered gaplessly in their own series."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from evdms.audit.models import AuditAction, AuditEvent
from evdms.invoicing.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSeries,
    InvoiceStatus,
    LineSource,
)
from evdms.invoicing.services.credit_notes import credit_left, credit_note_issue, credit_vat
from evdms.invoicing.services.issue import DraftLine, invoice_issue
from evdms.invoicing.vat import cents
from evdms.testing.fixtures import make_organisation

pytestmark = pytest.mark.django_db
MONTH = date(2026, 11, 1)
ISSUED = date(2026, 12, 1)


def fee(amount: str, quantity: str = "1", source: str = LineSource.DRIVER_FEE) -> DraftLine:
    return DraftLine(
        source=source,
        description="Monthly fee",
        quantity=Decimal(quantity),
        unit_price=Decimal(amount),
    )


@pytest.fixture
def acme():
    org = make_organisation("acme", "Acme")
    org.billing_name, org.billing_country = "Acme B.V.", "NL"
    org.save()
    return org


def services_invoice(org, *lines: DraftLine, month: date = MONTH) -> Invoice:
    return invoice_issue(
        organisation=org,
        kind=InvoiceKind.SERVICES,
        month=month,
        lines=list(lines),
        issue_date=ISSUED,
    )


def credit(invoice: Invoice, *pairs: tuple[int, str], reason: str = "Fee charged in error"):
    lines = {line.position: line for line in invoice.lines.all()}
    return credit_note_issue(
        invoice=invoice,
        lines=[(lines[position], Decimal(amount)) for position, amount in pairs] or None,
        reason=reason,
        issue_date=ISSUED,
    )


def nothing_written(before: dict[str, int]) -> bool:
    return before == counts()


def counts() -> dict[str, int]:
    return {
        "invoices": Invoice.objects.count(),
        "lines": InvoiceLine.objects.count(),
        "audit": AuditEvent.objects.count(),
        "crn_next": InvoiceSeries.objects.filter(key="CRN-2026")
        .values_list("next_number", flat=True)
        .first()
        or 1,
    }


def test_a_full_credit_note_mirrors_the_invoice(acme):
    invoice = services_invoice(acme, fee("10.00", "3"), fee("0.333", "3"))
    assert (invoice.total_excl_vat, invoice.total_vat) == (Decimal("31.00"), Decimal("6.51"))

    note = credit_note_issue(invoice=invoice, reason="Wrong organisation", issue_date=ISSUED)

    assert note.number == "CRN-2026-000001"
    assert (note.kind, note.status, note.credits) == (
        InvoiceKind.CREDIT_NOTE,
        InvoiceStatus.CREDIT,
        invoice,
    )
    assert note.credit_reason == "Wrong organisation"
    assert (note.total_excl_vat, note.total_vat, note.total_incl_vat) == (
        Decimal("31.00"),
        Decimal("6.51"),
        Decimal("37.51"),
    )
    assert note.buyer_details == invoice.buyer_details
    rows = list(
        note.lines.values_list("credits_line__position", "net_amount", "quantity", "source")
    )
    assert rows == [
        (1, Decimal("30.00"), Decimal("3.000"), LineSource.CREDIT),
        (2, Decimal("1.00"), Decimal("3.000"), LineSource.CREDIT),
    ]
    assert list(note.vat_lines.values_list("category", "rate", "basis", "amount")) == [
        ("S", Decimal("21.00"), Decimal("31.00"), Decimal("6.51"))
    ]
    event = AuditEvent.objects.get(action=AuditAction.CREDIT_NOTE_ISSUE)
    assert event.target_id == str(note.pk) and event.changes["total_incl_vat"] == [None, "37.51"]
    # The invoice itself never changes.
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_incl_vat) == (InvoiceStatus.ISSUED, Decimal("37.51"))


def test_a_partial_credit_note_credits_the_amount_and_its_vat(acme):
    invoice = services_invoice(acme, fee("100.00"), fee("20.00"))
    note = credit(invoice, (1, "40.00"))
    assert (note.total_excl_vat, note.total_vat, note.total_incl_vat) == (
        Decimal("40.00"),
        Decimal("8.40"),
        Decimal("48.40"),
    )
    (line,) = note.lines.all()
    assert (line.quantity, line.unit_price, line.net_amount) == (
        Decimal("1.000"),
        Decimal("40.0000"),
        Decimal("40.00"),
    )
    assert line.credits_line == invoice.lines.get(position=1)
    left = credit_left(invoice)
    assert left.excl_vat == Decimal("80.00") and left.incl_vat == Decimal("96.80")

    # The rest in full: both credit notes together are the invoice, to the cent.
    rest = credit_note_issue(invoice=invoice, reason="Contract ended", issue_date=ISSUED)
    assert rest.number == "CRN-2026-000002"
    assert (rest.total_excl_vat, rest.total_vat) == (Decimal("80.00"), Decimal("16.80"))
    assert sorted(rest.lines.values_list("credits_line__position", "net_amount")) == [
        (1, Decimal("60.00")),
        (2, Decimal("20.00")),
    ]
    with pytest.raises(ValidationError, match="it is credited in full"):
        credit_note_issue(invoice=invoice, reason="Again", issue_date=ISSUED)


def test_partial_credits_never_credit_more_vat_than_the_invoice_charged(acme):
    # 0.06 at 21 % is 0.0126: VAT 0.01. Rounding each 0.03 credit on its own (0.0063)
    # would credit 0.01 twice.
    invoice = services_invoice(acme, fee("0.03"), fee("0.03"))
    assert invoice.total_vat == Decimal("0.01")
    first = credit(invoice, (1, "0.03"))
    second = credit(invoice, (2, "0.03"))
    assert (first.total_vat, second.total_vat) == (Decimal("0.00"), Decimal("0.01"))
    assert first.total_vat + second.total_vat == invoice.total_vat
    assert second.total_incl_vat == Decimal("0.04")
    left = credit_left(invoice)
    assert (left.excl_vat, left.incl_vat) == (Decimal("0.00"), Decimal("0.00"))


def test_a_reverse_charge_line_is_credited_under_reverse_charge(acme):
    belgian = make_organisation("be", "Belgo")
    belgian.billing_country, belgian.vat_number = "BE", "BE0403170701"
    belgian.save()
    invoice = services_invoice(belgian, fee("50.00"))
    note = credit(invoice, (1, "10.00"))
    line = note.lines.get()
    assert (line.vat_category, line.vat_rate) == ("AE", Decimal("0.00"))
    assert line.vat_exemption_reason.startswith("Reverse charge")
    vat = note.vat_lines.get()
    assert (vat.category, vat.amount, vat.exemption_code) == ("AE", Decimal("0.00"), "VATEX-EU-AE")
    assert note.total_incl_vat == Decimal("10.00")


def test_more_than_is_left_on_a_line_is_refused_and_nothing_is_written(acme):
    invoice = services_invoice(acme, fee("100.00"), fee("20.00"))
    credit(invoice, (2, "15.00"))
    before = counts()
    with pytest.raises(ValidationError) as refused:
        credit(invoice, (2, "5.01"))
    assert refused.value.message_dict == {
        "lines": ["Line 2 (Monthly fee) has €5.00 left to credit; €5.01 is more."]
    }
    assert nothing_written(before)
    # What is left can still be credited, and the number follows without a gap.
    assert credit(invoice, (2, "5.00")).number == "CRN-2026-000002"


def test_a_credit_beyond_the_deductions_at_its_rate_is_refused(acme):
    # A session credited by its operator is a negative line: the invoice holds 7.00.
    invoice = services_invoice(
        acme, fee("10.00"), fee("-3.00", source=LineSource.PUBLIC_SESSION_CREDIT)
    )
    before = counts()
    with pytest.raises(ValidationError) as refused:
        credit(invoice, (1, "8.00"))
    assert refused.value.message_dict["lines"] == [
        "At 21.00% VAT (S) €7.00 is left to credit; €8.00 is more.",
        "SRV-2026-000001 has €7.00 excl. VAT left to credit; €8.00 is more.",
    ]
    with pytest.raises(ValidationError, match="a deduction already"):
        credit(invoice, (2, "1.00"))
    assert nothing_written(before)
    # In full, the credit note mirrors the deduction too.
    note = credit_note_issue(invoice=invoice, reason="Cancelled", issue_date=ISSUED)
    assert note.total_excl_vat == Decimal("7.00") and note.total_vat == Decimal("1.47")
    assert note.total_vat == invoice.total_vat


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "must be more than zero"),
        ("-1.00", "must be more than zero"),
        ("1.005", "whole cents"),
        ("NaN", "as a number"),
    ],
)
def test_amounts_that_are_not_positive_cents_are_refused(acme, amount, message):
    invoice = services_invoice(acme, fee("100.00"))
    before = counts()
    with pytest.raises(ValidationError, match=message):
        credit(invoice, (1, amount))
    assert nothing_written(before)


def test_a_credit_note_cannot_be_credited(acme):
    invoice = services_invoice(acme, fee("100.00"))
    note = credit(invoice, (1, "10.00"))
    before = counts()
    with pytest.raises(ValidationError) as refused:
        credit_note_issue(invoice=note, reason="Undo", issue_date=ISSUED)
    assert refused.value.message_dict == {
        "invoice": [
            "CRN-2026-000001 is a credit note; a credit note cannot be credited. "
            "Credit the invoice it corrects (SRV-2026-000001) instead."
        ]
    }
    assert nothing_written(before)


def test_lines_must_belong_to_the_invoice_and_come_once(acme):
    invoice = services_invoice(acme, fee("100.00"))
    other = services_invoice(acme, fee("5.00"), month=date(2026, 10, 1))
    foreign = other.lines.get()
    own = invoice.lines.get()
    before = counts()
    with pytest.raises(ValidationError, match=f"Line {foreign.pk} is not a line of"):
        credit_note_issue(invoice=invoice, lines=[(foreign, Decimal("1"))], reason="x")
    with pytest.raises(ValidationError, match="given twice"):
        credit_note_issue(
            invoice=invoice, lines=[(own, Decimal("1")), (own, Decimal("2"))], reason="x"
        )
    with pytest.raises(ValidationError, match="Give at least one line"):
        credit_note_issue(invoice=invoice, lines=[], reason="x")
    with pytest.raises(ValidationError, match="Say why"):
        credit_note_issue(invoice=invoice, reason="   ")
    assert nothing_written(before)


@pytest.mark.parametrize("reason", ["Fee\x00charged", "Fee \x07charged", "Fee \u202echarged"])
def test_a_reason_with_a_control_character_is_refused(acme, reason):
    # A NUL cannot be stored in PostgreSQL text (a 500 there) and a control or
    # direction character would print on the credit note as something else.
    invoice = services_invoice(acme, fee("100.00"))
    before = counts()
    with pytest.raises(ValidationError) as refused:
        credit_note_issue(invoice=invoice, reason=reason)
    assert "control character" in refused.value.message_dict["reason"][0]
    assert nothing_written(before)
    # Line breaks and tabs are only spaces: the reason is one line.
    note = credit_note_issue(invoice=invoice, reason="Fee\n\tcharged  twice")
    assert note.credit_reason == "Fee charged twice"


def test_credit_note_numbers_are_gapless_in_their_own_series(acme):
    first = services_invoice(acme, fee("100.00"))
    second = services_invoice(acme, fee("50.00"), month=date(2026, 10, 1))
    numbers = [credit(first, (1, "10.00")).number]
    with pytest.raises(ValidationError):
        credit(first, (1, "95.00"))
    numbers.append(credit(second, (1, "50.00")).number)
    numbers.append(credit(first, (1, "90.00")).number)
    assert numbers == ["CRN-2026-000001", "CRN-2026-000002", "CRN-2026-000003"]
    assert InvoiceSeries.objects.get(key="CRN-2026").next_number == 4
    # The invoices' own series is untouched by credit notes.
    assert InvoiceSeries.objects.get(key="SRV-2026").next_number == 3


@pytest.mark.django_db(transaction=True)
def test_two_operators_crediting_at_once_never_credit_more_than_is_left():
    from evdms.testing.concurrency import at_once

    org = make_organisation("acme", "Acme")
    invoice = services_invoice(org, fee("100.00"))
    line = invoice.lines.get()
    outcomes: list[str] = []

    def credit_60() -> None:
        try:
            note = credit_note_issue(
                invoice=invoice, lines=[(line, Decimal("60.00"))], reason="x", issue_date=ISSUED
            )
        except ValidationError as exc:
            outcomes.append(exc.messages[0])
        else:
            outcomes.append(note.number)

    at_once(credit_60, credit_60)
    assert sorted(outcomes) == [
        "CRN-2026-000001",
        "Line 1 (Monthly fee) has €40.00 left to credit; €60.00 is more.",
    ]
    assert Invoice.objects.filter(credits=invoice).count() == 1
    assert InvoiceSeries.objects.get(key="CRN-2026").next_number == 2


@given(
    parts=st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=30),
    rate=st.sampled_from([Decimal("21.00"), Decimal("9.00"), Decimal("7.70"), Decimal("0.00")]),
)
@hypothesis_settings(max_examples=300)
def test_partial_credits_add_up_to_the_invoice_vat_and_never_exceed_what_is_left(parts, rate):
    """An invoice group of basis Σ parts (in cents) credited part by part."""
    basis = sum((Decimal(p) / 100 for p in parts), Decimal(0))
    left_basis, left_vat = basis, cents(basis * rate / 100)
    invoice_vat = left_vat
    credited = []
    for part in (Decimal(p) / 100 for p in parts):
        vat = credit_vat(left_basis=left_basis, left_vat=left_vat, credited_basis=part, rate=rate)
        assert Decimal(0) <= vat <= left_vat
        assert abs(vat - cents(part * rate / 100)) <= Decimal("0.01")
        left_basis, left_vat = left_basis - part, left_vat - vat
        assert left_vat == cents(left_basis * rate / 100)  # what is left: its own VAT
        credited.append(vat)
    assert sum(credited, Decimal(0)) == invoice_vat


def test_a_credit_note_is_in_the_currency_of_the_invoice_it_corrects(acme):
    invoice = services_invoice(acme, fee("10.00"))
    type(acme).objects.filter(pk=acme.pk).update(currency="GBP")  # changed since
    acme.refresh_from_db()
    note = credit(invoice, (1, "4.00"))
    assert (invoice.currency, note.currency) == ("EUR", "EUR")
