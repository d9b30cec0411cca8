"""Issued invoices for the document and delivery tests, made with ``invoice_issue``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from evdms.accounts.models import Organisation
from evdms.invoicing.models import Invoice, InvoiceKind, LineSource
from evdms.invoicing.services.issue import DraftLine, invoice_issue
from evdms.testing.fixtures import make_organisation

MONTH = date(2026, 11, 1)
ISSUED = date(2026, 12, 1)


def billed_organisation(
    slug: str = "acme",
    *,
    name: str = "Acme Leasing B.V.",
    country: str = "NL",
    vat_number: str = "NL004495445B01",
    email: str = "ap@acme.example",
    purchase_order: str = "PO-4711",
) -> Organisation:
    org = make_organisation(slug, name.split(" ")[0])
    org.billing_name = name
    org.billing_address = "Kerkstraat 12"
    org.billing_postcode = "3511 AB"
    org.billing_city = "Utrecht"
    org.billing_country = country
    org.vat_number = vat_number
    org.accounts_payable_email = email
    org.purchase_order_reference = purchase_order
    org.save()
    return org


def services_invoice(org: Organisation, *, lines: int = 10, month: date = MONTH) -> Invoice:
    drafts = [
        DraftLine(
            source=LineSource.DRIVER_FEE,
            description=f"Monthly fee per driver, programme {n} (Zoë's team)",
            quantity=Decimal("3"),
            unit="MON",
            unit_price=Decimal("4.9500"),
        )
        for n in range(1, lines + 1)
    ]
    return invoice_issue(
        organisation=org, kind=InvoiceKind.SERVICES, month=month, lines=drafts, issue_date=ISSUED
    )


def session_line(n: int, *, driver_name: str = "Anna de Vries") -> DraftLine:
    return DraftLine(
        source=LineSource.PUBLIC_SESSION,
        description=f"Public charging session {n}"
        + (", Fastned Utrecht Centrum, Croeselaan 28, charger NL*FAS*E1234*2" if n == 2 else ""),
        quantity=Decimal("1"),
        unit_price=Decimal("7.8050"),
        driver_name=driver_name,
        verification_1="Cost centre 42",
        verification_2="+31 6 1234",
        customer_id="EMP-0099",
        occurred_at=datetime(2026, 11, 3, 23, 30, tzinfo=UTC)  # 4 Nov in Amsterdam
        if n == 1
        else datetime(2026, 11, 5, 12, 0, tzinfo=UTC),
        place="Fastned Utrecht Centrum",
        energy_wh=23456,
    )


def transactions_invoice(
    org: Organisation, *, sessions: int = 2, driver_name: str = "Anna de Vries"
) -> Invoice:
    drafts = [session_line(n, driver_name=driver_name) for n in range(1, sessions + 1)]
    drafts.append(
        DraftLine(
            source=LineSource.PUBLIC_SESSION_CREDIT,
            description="Public charging session 1 credited by its operator",
            quantity=Decimal("1"),
            unit_price=Decimal("-2.5000"),
            driver_name=driver_name,
            energy_wh=-1000,
        )
    )
    drafts.append(
        DraftLine(
            source=LineSource.REIMBURSEMENT,
            description="Home charging reimbursed, statement RS-2026-11-7",
            quantity=Decimal("1"),
            unit_price=Decimal("12.34"),
            net_amount=Decimal("12.34"),
            pass_through=True,
            driver_name=driver_name,
            energy_wh=49360,
            occurred_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
        )
    )
    return invoice_issue(
        organisation=org,
        kind=InvoiceKind.TRANSACTIONS,
        month=MONTH,
        lines=drafts,
        issue_date=ISSUED,
    )


def credit_note(invoice: Invoice, amount: str = "4.95") -> Invoice:
    line = invoice.lines.order_by("position").first()
    assert line is not None
    return invoice_issue(
        organisation=invoice.organisation,
        kind=invoice.kind,
        month=invoice.month,
        credits=invoice,
        credit_reason="Driver left in October",
        lines=[
            DraftLine(
                source=LineSource.CREDIT,
                description=f"Credit: {line.description}",
                quantity=Decimal("1"),
                unit="MON",
                unit_price=Decimal(amount),
                credits_line_id=line.pk,
            )
        ],
        issue_date=date(2026, 12, 10),
    )
