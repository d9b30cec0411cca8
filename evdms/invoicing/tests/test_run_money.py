"""Money correctness of the invoice run: properties over generated months (Hypothesis)
and a reconciliation of statements, the SEPA payout file and the invoices."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from evdms.charging.models import ChargingSession, SessionPurpose, SessionStatus
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceLine, LineSource
from evdms.invoicing.services.run import invoices_run
from evdms.invoicing.tests import run_world as w
from evdms.invoicing.vat import cents
from evdms.reimbursements.models import PayoutLine, PayoutLineStatus, Statement
from evdms.testing.fixtures import make_grant, make_organisation

pytestmark = pytest.mark.django_db

OCT = date(2026, 10, 1)
NOV = date(2026, 11, 1)
D = Decimal

money = st.decimals(min_value=D("0.01"), max_value=D("500"), places=4)
session_st = st.tuples(
    money,
    st.sampled_from(["business", "business", "personal"]),
    st.sampled_from(["kept", "kept", "credited_before", "credited_after"]),
    st.integers(min_value=1, max_value=31),  # day of October
)
driver_st = st.tuples(
    st.integers(min_value=1, max_value=40),  # connected on this day (above 31: September)
    st.lists(session_st, max_size=4),
    st.lists(
        st.tuples(
            st.decimals(min_value=D("0.01"), max_value=D("300"), places=2),
            st.sampled_from(["paid", "paid", "pending", "failed"]),
        ),
        max_size=2,
    ),
)
organisation_st = st.fixed_dictionaries(
    {
        "country": st.sampled_from(["NL", "BE", "CH"]),
        "payer": st.booleans(),
        "pro_rata": st.booleans(),
        "reimbursement_basis": st.sampled_from(["per_item", "percent"]),
        "public_basis": st.sampled_from(["per_item", "percent"]),
        "fee": st.decimals(min_value=D(0), max_value=D("30"), places=4),
        "drivers": st.lists(driver_st, min_size=1, max_size=3),
    }
)


def build(organisations: list[dict]) -> dict[str, list[int]]:
    lease = w.billed_organisation(make_organisation("payer", "Payer Lease"))
    credit_after: list[int] = []
    for n, spec in enumerate(organisations):
        vat = {"NL": "", "BE": "BE0403170701", "CH": ""}[spec["country"]]
        org = w.billed_organisation(
            make_organisation(f"gen{n}", f"Generated {n}"), spec["country"], vat
        )
        if spec["payer"]:  # named under a grant, as billing requires
            make_grant(grantor=org, grantee=lease)
            org.invoice_payer = lease
            org.save()
        w.fee_schedule(
            org,
            driver_fee=spec["fee"],
            driver_fee_pro_rata=spec["pro_rata"],
            reimbursement_fee_basis=spec["reimbursement_basis"],
            reimbursement_fee=min(spec["fee"], D(100)),
            public_fee_basis=spec["public_basis"],
            public_fee=spec["fee"] / 3,
        )
        connection = w.public_connection(org)
        for d, (connected_day, sessions, statements) in enumerate(spec["drivers"]):
            connected = (
                w.local(date(2026, 10, connected_day), 8)
                if connected_day <= 31
                else datetime(2026, 9, 1, tzinfo=UTC)
            )
            user = w.driver(connection, f"Driver {n} {d}", connected=connected)
            for cost, purpose, fate, day in sessions:
                session = w.public_session(
                    user, org, w.local(date(2026, 10, day), 14), str(cost), purpose=purpose
                )
                if fate == "credited_before":
                    w.credit(session)
                elif fate == "credited_after":
                    credit_after.append(session.pk)
            for s, (total, status) in enumerate(statements):
                w.paid_statement(
                    user,
                    org,
                    str(total),
                    settled=w.local(date(2026, 10, 3 + s)),
                    month=date(2026, 8 + s, 1),
                    status=status,
                )
    return {"credit_after": credit_after}


def assert_invoices_add_up() -> None:
    for invoice in Invoice.objects.prefetch_related("lines", "vat_lines"):
        lines = list(invoice.lines.all())
        vat_lines = list(invoice.vat_lines.all())
        assert sum((line.net_amount for line in lines), D(0)) == invoice.total_excl_vat
        assert sum((row.basis for row in vat_lines), D(0)) == invoice.total_excl_vat
        assert sum((row.amount for row in vat_lines), D(0)) == invoice.total_vat
        assert invoice.total_incl_vat == invoice.total_excl_vat + invoice.total_vat
        assert invoice.total_excl_vat != 0  # zero-amount invoices are not issued
        for row in vat_lines:
            basis = sum(
                (
                    line.net_amount
                    for line in lines
                    if (line.vat_category, line.vat_rate) == (row.category, row.rate)
                ),
                D(0),
            )
            assert row.basis == basis


def assert_sources_once() -> None:
    # Every paid reimbursement exactly once, on its organisation's Transactions invoice,
    # for what the bank paid; pending and failed ones on none.
    for line in PayoutLine.objects.select_related("statement__connection"):
        on = list(InvoiceLine.objects.filter(payout_line=line).select_related("invoice"))
        if line.status == PayoutLineStatus.PAID:
            (reimbursed,) = on
            assert reimbursed.invoice.kind == InvoiceKind.TRANSACTIONS
            assert reimbursed.invoice.organisation_id == line.statement.connection.organisation_id
            assert reimbursed.net_amount == line.amount
            assert reimbursed.vat_category in ("E", "O") and reimbursed.vat_rate == 0
        else:
            assert on == []
    for session in ChargingSession.objects.filter(kind="public"):
        billed = list(InvoiceLine.objects.filter(session=session))
        deducted = list(InvoiceLine.objects.filter(credited_session=session))
        if session.purpose == SessionPurpose.PERSONAL:
            assert billed == [] and deducted == []  # personal sessions never
            continue
        if not billed:
            # Business sessions not invoiced: only those credited before invoicing.
            assert session.status == SessionStatus.CREDITED and billed == deducted == []
            continue
        (billed_line,) = billed  # every business CDR exactly once
        assert session.cost_excl_vat is not None
        assert billed_line.net_amount == cents(session.cost_excl_vat)  # half up
        assert billed_line.invoice.organisation_id == session.organisation_id
        if session.status == SessionStatus.CREDITED:
            (credit,) = deducted  # a credit CDR nets it to zero
            assert credit.net_amount + billed_line.net_amount == 0
        else:
            assert deducted == []


@given(st.lists(organisation_st, min_size=1, max_size=3))
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_generated_months_invoice_every_source_once_and_add_up(db, organisations):
    with transaction.atomic():
        made = build(organisations)
        first = invoices_run(OCT, issue_date=date(2026, 11, 2))
        assert first.refused == 0
        again = invoices_run(OCT, issue_date=date(2026, 11, 2))
        assert again.issued == 0  # a rerun issues nothing new
        ChargingSession.objects.filter(pk__in=made["credit_after"]).update(
            status=SessionStatus.CREDITED
        )
        invoices_run(NOV, issue_date=date(2026, 12, 1))
        assert_invoices_add_up()
        assert_sources_once()
        # Numbers gapless per series.
        series: Counter[str] = Counter()
        for number in Invoice.objects.values_list("number", flat=True):
            series[number.rpartition("-")[0]] += 1
        for key, n in series.items():
            numbers = sorted(
                int(x.rpartition("-")[2])
                for x in Invoice.objects.filter(number__startswith=key).values_list(
                    "number", flat=True
                )
            )
            assert numbers == list(range(1, n + 1))
        transaction.set_rollback(True)


# --- reconciliation ---------------------------------------------------------------------

SEPA_NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}


def test_statements_the_sepa_file_and_the_invoices_reconcile_to_the_cent(db):
    """A generated month, as it happens: home sessions, the statement run, a payout
    batch exported to a SEPA file and paid (one transfer returned), then the invoice
    run: what the statements paid, what the file paid and what the invoices bill
    agree to the cent, per organisation and in all."""
    from evdms.accounts.models import User
    from evdms.charging.services import charger_register
    from evdms.reimbursements.models import HomePrice
    from evdms.reimbursements.services import bank_account_set
    from evdms.reimbursements.services.payouts import (
        payout_batch_create,
        payout_batch_export,
        payout_batch_mark_paid,
        payout_line_fail,
    )
    from evdms.reimbursements.services.statements import statements_run
    from evdms.testing.fixtures import make_connection, make_membership

    lease = w.billed_organisation(make_organisation("lease", "Lease Co"))
    customer = w.billed_organisation(make_organisation("cust", "Customer", kind="customer"))
    make_grant(grantor=customer, grantee=lease)
    customer.invoice_payer = lease
    customer.save()
    september = date(2026, 9, 1)
    for org in (lease, customer):
        connection = make_connection(org, name=f"{org.slug}_Home", max_price_per_kwh="0.30")
        for n in range(4):
            user = User.objects.create_user(f"{org.slug}{n}@example.com", "a long passphrase")
            make_membership(connection, user)
            charger, _ = charger_register(
                actor=None, organisation=org, identity=f"{org.slug}-{n}", serial="S", driver=user
            )
            HomePrice.objects.create(
                driver=user, price_per_kwh=D("0.2") + D(n) / 37, valid_from=date(2026, 1, 1)
            )
            bank_account_set(driver=user, holder=f"Driver {n}", iban="NL91ABNA0417164300")
            for i in range(5):
                start = datetime(2026, 9, 2 + i * 5, 18, tzinfo=UTC)
                ChargingSession.objects.create(
                    charger=charger,
                    organisation=org,
                    driver=user,
                    connection=connection,
                    transaction_id=f"{n}-{i}",
                    started_at=start,
                    ended_at=start + timedelta(hours=2),
                    energy_wh=3_333 * (n + 1) + 7 * i,
                    status="completed",
                )
    statements_run(september)
    batch = payout_batch_create(execution_date=date(2026, 10, 5))
    xml = payout_batch_export(batch=batch)
    returned = batch.lines.order_by("pk").first()
    assert returned is not None
    payout_line_fail(line=returned, reason="AC04 closed account", operator=None)
    payout_batch_mark_paid(batch=batch, operator=None)

    this_month = timezone.localdate().replace(day=1)  # the payouts settled just now
    result = invoices_run(this_month)
    assert result.refused == 0

    tree = etree.fromstring(xml)
    in_file = {
        tx.findtext("p:PmtId/p:EndToEndId", namespaces=SEPA_NS): D(
            tx.findtext("p:Amt/p:InstdAmt", namespaces=SEPA_NS)
        )
        for tx in tree.iterfind(".//p:CdtTrfTxInf", namespaces=SEPA_NS)
    }
    assert len(in_file) == 8
    for org in (lease, customer):
        paid = Statement.objects.filter(connection__organisation=org, status="paid")
        statements_paid = paid.aggregate(total=Sum("total"))["total"]
        file_paid = sum(
            (
                in_file[e2e]
                for e2e in PayoutLine.objects.filter(
                    statement__in=paid, status=PayoutLineStatus.PAID
                ).values_list("end_to_end_id", flat=True)
            ),
            D(0),
        )
        invoiced = InvoiceLine.objects.filter(
            invoice__organisation=org,
            invoice__kind=InvoiceKind.TRANSACTIONS,
            source=LineSource.REIMBURSEMENT,
        ).aggregate(total=Sum("net_amount"))["total"]
        assert statements_paid == file_paid == invoiced
        assert paid.count() == (3 if returned.statement.connection.organisation == org else 4)
    # The customer's reimbursements are billed to the payer it named.
    assert set(Invoice.objects.filter(organisation=customer).values_list("buyer", flat=True)) == {
        lease.pk
    }
    # In all: every transfer the bank paid is billed once, the returned one not at all.
    all_invoiced = InvoiceLine.objects.filter(source=LineSource.REIMBURSEMENT).aggregate(
        total=Sum("net_amount")
    )["total"]
    assert all_invoiced == sum(in_file.values()) - in_file[returned.end_to_end_id]
