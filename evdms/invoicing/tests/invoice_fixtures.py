"""Invoices of Voltlease (organisation A of the test world), issued with the real
issuing core, for the page and API tests.

Voltlease has a Services invoice for October 2026 (sent), a Transactions invoice for
October (overdue) with two public sessions, a Bundle invoice for Dan for November, and a
credit note of the Services invoice. Globex, a customer that named Voltlease as its
payer, has a Services invoice addressed to Voltlease. Rival Lease (B) has one of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from evdms.accounts.models import Organisation, User
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceStatus, LineSource
from evdms.invoicing.services.issue import DraftLine, invoice_issue
from evdms.testing.fixtures import World, make_grant, make_organisation

OCTOBER = date(2026, 10, 1)
NOVEMBER = date(2026, 11, 1)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def fee(amount: str, quantity: str = "1", description: str = "Monthly fee per driver") -> DraftLine:
    return DraftLine(
        source=LineSource.DRIVER_FEE,
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(amount),
    )


def session(when: datetime, amount: str, energy_wh: int, driver: str = "Dan Driver") -> DraftLine:
    return DraftLine(
        source=LineSource.PUBLIC_SESSION,
        description="Public charging session",
        quantity=Decimal(energy_wh) / 1000,
        unit="KWH",
        # What the operator charged per kWh; the line is what it charged in all.
        unit_price=(Decimal(amount) * 1000 / energy_wh).quantize(Decimal("0.0001")),
        net_amount=Decimal(amount),
        driver_name=driver,
        customer_id="CRM-7",
        verification_1="EMP-42",
        occurred_at=when,
        place="Fastned Amsterdam Zuid",
        energy_wh=energy_wh,
    )


def billed(org: Organisation, name: str) -> Organisation:
    org.billing_name = name
    org.billing_address = "Keizersgracht 1"
    org.billing_postcode = "1015 AA"
    org.billing_city = "Amsterdam"
    org.billing_country = "NL"
    org.accounts_payable_email = "ap@voltlease.example"
    org.purchase_order_reference = "PO-2026-77"
    org.save()
    return org


def set_status(invoice: Invoice, status: str) -> Invoice:
    # Delivery and payment are another piece's services; the pages only show them.
    now = timezone.now()
    invoice.status = status
    invoice.sent_at = now
    invoice.paid_at = now if status == InvoiceStatus.PAID else None
    invoice.save(update_fields=["status", "sent_at", "paid_at"])
    return invoice


@dataclass
class Invoices:
    world: World
    services: Invoice
    transactions: Invoice
    bundle: Invoice
    credit_note: Invoice
    globex: Organisation
    globex_services: Invoice
    rival: Invoice
    dan: User


@pytest.fixture(name="invoices")
def invoices_fixture(world: World) -> Invoices:
    billed(world.org_a, "Voltlease B.V.")
    dan = User.objects.create_user(
        "dan@example.com", "dan's long passphrase", full_name="Dan Driver"
    )
    services = invoice_issue(
        organisation=world.org_a,
        kind=InvoiceKind.SERVICES,
        month=OCTOBER,
        lines=[fee("10.00", "3"), fee("2.50", description="Home warranty and labour")],
        issue_date=date(2026, 11, 1),
    )
    set_status(services, InvoiceStatus.SENT)
    transactions = invoice_issue(
        organisation=world.org_a,
        kind=InvoiceKind.TRANSACTIONS,
        month=OCTOBER,
        lines=[
            # 23:30 UTC on 14 October is 01:30 on the 15th in Amsterdam.
            session(datetime(2026, 10, 14, 23, 30, tzinfo=ZoneInfo("UTC")), "12.34", 23_456),
            session(datetime(2026, 10, 20, 9, 0, tzinfo=AMSTERDAM), "5.00", 10_000, "Eve Electric"),
        ],
        issue_date=date(2026, 11, 2),
    )
    set_status(transactions, InvoiceStatus.OVERDUE)
    bundle = invoice_issue(
        organisation=world.org_a,
        kind=InvoiceKind.BUNDLE,
        month=NOVEMBER,
        driver=dan,
        lines=[fee("1500.00", description="Home charger and installation")],
        issue_date=date(2026, 12, 1),
    )
    credit_note = invoice_issue(
        organisation=world.org_a,
        kind=InvoiceKind.SERVICES,
        month=OCTOBER,
        credits=services,
        credit_reason="Driver counted twice",
        lines=[fee("10.00")],
        issue_date=date(2026, 11, 10),
    )
    globex = make_organisation("globex", "Globex", kind="customer")
    # Globex granted Voltlease rights and named it its payer.
    make_grant(grantor=globex, grantee=world.org_a)
    globex.invoice_payer = world.org_a
    globex.save()
    globex_services = invoice_issue(
        organisation=globex,
        kind=InvoiceKind.SERVICES,
        month=OCTOBER,
        lines=[fee("7.00")],
        issue_date=date(2026, 11, 1),
    )
    rival = invoice_issue(
        organisation=world.org_b,
        kind=InvoiceKind.SERVICES,
        month=OCTOBER,
        lines=[fee("99.99")],
        issue_date=date(2026, 11, 1),
    )
    return Invoices(
        world=world,
        services=services,
        transactions=transactions,
        bundle=bundle,
        credit_note=credit_note,
        globex=globex,
        globex_services=globex_services,
        rival=rival,
        dan=dan,
    )
