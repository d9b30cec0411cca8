"""The issuing core: VAT per line and category, totals exact, numbers gapless."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceSeries, LineSource
from evdms.invoicing.services.issue import DraftLine, invoice_issue, payment_reference
from evdms.invoicing.vat import (
    EXEMPT,
    OUT_OF_SCOPE,
    REVERSE_CHARGE,
    STANDARD,
    Parties,
    Treatment,
    cents,
    totals,
    treatment_for,
)
from evdms.testing.fixtures import make_grant, make_organisation

MONTH = date(2026, 11, 1)
NL = Parties("NL", "NL", "", Decimal("21.00"))


def fee(amount: str, quantity: str = "1", **kw) -> DraftLine:
    return DraftLine(
        source=LineSource.DRIVER_FEE,
        description="Monthly fee",
        quantity=Decimal(quantity),
        unit_price=Decimal(amount),
        **kw,
    )


def test_treatments():
    assert treatment_for(NL).category == STANDARD
    assert treatment_for(NL).rate == Decimal("21.00")
    assert treatment_for(NL, pass_through=True).category == EXEMPT
    belgian = Parties("NL", "BE", "BE0403170701", Decimal("21.00"))
    assert treatment_for(belgian).category == REVERSE_CHARGE
    assert treatment_for(belgian).rate == 0
    # A Belgian buyer without a VAT number pays Dutch VAT.
    assert treatment_for(Parties("NL", "BE", "", Decimal("21"))).category == STANDARD
    assert treatment_for(Parties("NL", "CH", "", Decimal("21"))).category == OUT_OF_SCOPE


def test_vat_is_rounded_once_per_category():
    standard = Treatment(STANDARD, Decimal("21.00"))
    result = totals([(Decimal("0.05"), standard)] * 3)
    # Per line 0.0105 → 0.01 each (0.03); on the basis 0.15 × 21% = 0.0315 → 0.03.
    assert result.vat == Decimal("0.03")
    result = totals([(Decimal("0.10"), standard)] * 3)
    assert result.vat == Decimal("0.06")  # 0.30 × 21% = 0.063


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=-1000, max_value=100000, places=2),
            st.sampled_from([Decimal("21.00"), Decimal("9.00"), Decimal("0.00")]),
        ),
        max_size=40,
    )
)
@settings(max_examples=200)
def test_totals_add_up(lines):
    result = totals([(net, Treatment(STANDARD, rate)) for net, rate in lines])
    assert result.excl_vat == sum((net for net, _ in lines), Decimal(0))
    assert result.vat == sum((row.amount for row in result.breakdown), Decimal(0))
    assert result.incl_vat == result.excl_vat + result.vat
    for row in result.breakdown:
        assert row.amount == cents(row.basis * row.rate / 100)


def test_payment_reference_is_iso_11649():
    from stdnum import iso11649

    reference = payment_reference("TRX-2026-000017")
    assert reference.endswith("TRX2026000017")
    assert iso11649.is_valid(reference)


@pytest.mark.django_db
def test_issue_copies_parties_and_numbers_in_sequence():
    org = make_organisation("acme", "Acme")
    org.billing_name, org.billing_country = "Acme B.V.", "NL"
    org.save()
    first = invoice_issue(
        organisation=org,
        kind=InvoiceKind.SERVICES,
        month=MONTH,
        lines=[fee("10.00", "3"), fee("0.333", "3")],
        issue_date=date(2026, 12, 1),
    )
    assert first.number == "SRV-2026-000001"
    assert first.total_excl_vat == Decimal("31.00")  # 30.00 + 0.999 → 1.00
    assert first.total_vat == Decimal("6.51")
    assert first.total_incl_vat == Decimal("37.51")
    assert first.buyer_details["name"] == "Acme B.V."
    assert first.due_date == date(2026, 12, 31)
    assert list(first.lines.values_list("net_amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("1.00"),
    ]
    # A second Services invoice for the month is refused, and its number is given back.
    with pytest.raises(IntegrityError), transaction.atomic():
        invoice_issue(organisation=org, kind=InvoiceKind.SERVICES, month=MONTH, lines=[fee("1")])
    other = invoice_issue(
        organisation=org,
        kind=InvoiceKind.SERVICES,
        month=date(2026, 10, 1),
        lines=[fee("1")],
        issue_date=date(2026, 12, 1),
    )
    assert other.number == "SRV-2026-000002"
    assert InvoiceSeries.objects.get(key="SRV-2026").next_number == 3
    assert Invoice.objects.count() == 2
    assert InvoiceLine.objects.count() == 3


@pytest.mark.django_db
def test_payer_receives_the_invoice():
    lease = make_organisation("lease", "Lease Co")
    customer = make_organisation("cust", "Customer", kind="customer")
    make_grant(grantor=customer, grantee=lease)
    customer.invoice_payer = lease
    customer.save()
    invoice = invoice_issue(
        organisation=customer, kind=InvoiceKind.SERVICES, month=MONTH, lines=[fee("5")]
    )
    assert invoice.buyer == lease
    assert invoice.buyer_details["name"] == "Lease Co"


@pytest.mark.django_db
def test_a_source_billed_twice_is_refused_as_an_integrity_error_and_nothing_is_written():
    """The lines are written with COPY / executemany: the database's refusal of a session
    on a second invoice still reaches callers as Django's IntegrityError (the run retries
    or refuses on it), and the second invoice, its lines and its number roll back."""
    from evdms.invoicing.tests import run_world as w

    org = w.billed_organisation(make_organisation("volt", "Volt"))
    dana = w.driver(w.public_connection(org), "Dana Driver")
    session = w.public_session(dana, org, w.local(date(2026, 11, 3)), "4.00")
    billed = DraftLine(
        source=LineSource.PUBLIC_SESSION,
        description="Public charging",
        quantity=Decimal(1),
        unit_price=Decimal("4.00"),
        session_id=session.pk,
    )
    invoice_issue(organisation=org, kind=InvoiceKind.TRANSACTIONS, month=MONTH, lines=[billed])
    with pytest.raises(IntegrityError), transaction.atomic():
        invoice_issue(
            organisation=org, kind=InvoiceKind.SERVICES, month=MONTH, lines=[fee("1"), billed]
        )
    assert list(Invoice.objects.values_list("number", flat=True)) == ["TRX-2026-000001"]
    assert InvoiceLine.objects.count() == 1
    assert not InvoiceSeries.objects.filter(key="SRV-2026", next_number__gt=1).exists()
