"""The monthly invoice run: what each kind of invoice holds, to the cent, on small cases
computed by hand; reruns; refusals; the command and the task."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from evdms.charging.models import ChargingSession, SessionPurpose
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceSeries, LineSource
from evdms.invoicing.services import run as run_module
from evdms.invoicing.services.run import invoices_run
from evdms.invoicing.tests import run_world as w
from evdms.testing.fixtures import make_grant, make_organisation

pytestmark = pytest.mark.django_db

OCT = w.OCTOBER
ISSUED = date(2026, 11, 2)
D = Decimal


@pytest.fixture
def voltlease():
    """Voltlease (NL) with its fee schedule: Dana connected all October, Eve from 21
    October (11 of 31 days); Dana's public sessions (two business, one personal), her
    September statement paid in October, and her home charger installed in October."""
    org = w.billed_organisation(make_organisation("voltlease", "Voltlease"))
    w.fee_schedule(org)
    connection = w.public_connection(org)
    dana = w.driver(connection, "Dana Driver")
    eve = w.driver(connection, "Eve Early", connected=w.local(date(2026, 10, 21), 9))
    w.public_session(dana, org, w.local(date(2026, 10, 3)), "4.0000", location="Gent\x07 Zuid")
    w.public_session(dana, org, w.local(date(2026, 10, 9)), "10.3350")
    w.public_session(
        dana, org, w.local(date(2026, 10, 12)), "7.00", purpose=SessionPurpose.PERSONAL
    )
    w.paid_statement(dana, org, "12.34", settled=w.local(date(2026, 10, 6)))
    w.completed_job(dana, org, completed=w.local(date(2026, 10, 20)))
    return {"org": org, "dana": dana, "eve": eve, "connection": connection}


def invoice(org, kind, driver=None) -> Invoice:
    return Invoice.objects.get(organisation=org, kind=kind, month=OCT, driver=driver)


def nets(inv: Invoice) -> list[tuple[str, Decimal, str]]:
    return [(line.source, line.net_amount, line.vat_category) for line in inv.lines.all()]


def test_the_three_kinds_come_out_right_to_the_cent(voltlease):
    org, dana = voltlease["org"], voltlease["dana"]
    result = invoices_run(OCT, issue_date=ISSUED)
    assert (result.organisations, result.issued, result.skipped, result.refused) == (1, 3, 0, 0)

    trx = invoice(org, InvoiceKind.TRANSACTIONS)
    assert nets(trx) == [
        (LineSource.PUBLIC_SESSION, D("4.00"), "S"),
        (LineSource.PUBLIC_SESSION, D("10.34"), "S"),  # 10.335 half up
        (LineSource.REIMBURSEMENT, D("12.34"), "E"),  # passed through: no VAT
    ]
    # 14.34 × 21 % = 3.0114 → 3.01
    assert (trx.total_excl_vat, trx.total_vat, trx.total_incl_vat) == (
        D("26.68"),
        D("3.01"),
        D("29.69"),
    )
    first = trx.lines.all()[0]
    assert first.driver_name == "Dana Driver" and first.customer_id == "CUST-voltlease"
    assert first.verification_1 == f"EMP-{dana.pk}" and first.verification_2 == "Sales"
    assert first.place == "Gent Zuid, F.Rooseveltlaan 3A, 9000 Gent"  # the BEL stripped
    assert first.energy_wh == 10_000
    assert "\x07" not in first.description and "Gent Zuid" in first.description
    assert trx.number == "TRX-2026-000001" and trx.issue_date == ISSUED

    srv = invoice(org, InvoiceKind.SERVICES)
    assert [(line.description, line.quantity, line.net_amount) for line in srv.lines.all()] == [
        ("Monthly fee per connected driver, October 2026", D("1.000"), D("5.00")),
        ("Monthly fee per connected driver, October 2026: 11 of 31 days", D("1.000"), D("1.77")),
        ("Home warranty and labour per driver, October 2026", D("1.000"), D("2.50")),
        ("Reimbursement service fee per reimbursement statement paid", D("1.000"), D("0.50")),
        ("Public charging service fee: 3 % of €14.34", D("1.000"), D("0.43")),
    ]
    # 10.20 × 21 % = 2.142 → 2.14
    assert (srv.total_excl_vat, srv.total_vat, srv.total_incl_vat) == (
        D("10.20"),
        D("2.14"),
        D("12.34"),
    )

    bundle = invoice(org, InvoiceKind.BUNDLE, driver=dana)
    (line,) = bundle.lines.all()
    # The organisation's share: the standard package, 1,210.00 incl. VAT; the extra
    # Dana asked for is hers.
    assert line.net_amount == D("1000.00") and line.job is not None
    assert (bundle.total_vat, bundle.total_incl_vat) == (D("210.00"), D("1210.00"))

    # Personal sessions are never invoiced; business ones are fixed from now on.
    personal = ChargingSession.objects.get(purpose=SessionPurpose.PERSONAL)
    assert not InvoiceLine.objects.filter(session=personal).exists()
    assert (
        ChargingSession.objects.filter(
            purpose=SessionPurpose.BUSINESS, invoice_line__isnull=False
        ).count()
        == 2
    )
    assert sorted(result.invoice_ids) == sorted(Invoice.objects.values_list("pk", flat=True))


def test_a_german_organisations_lines_are_written_in_german(voltlease):
    """Issue #19: the lines are written once, at issue, in the buyer organisation's
    default language (the PDF and its embedded e-invoice carry the same text), with
    local dates and amounts, whatever language the run itself is in."""
    from django.utils import translation

    org = voltlease["org"]
    org.default_language = "de"
    org.save(update_fields=["default_language"])
    with translation.override("en-gb"):
        invoices_run(OCT, issue_date=ISSUED)
    srv = invoice(org, InvoiceKind.SERVICES)
    assert [line.description for line in srv.lines.all()] == [
        "Monatliche Gebühr pro angeschlossenem Fahrer, Oktober 2026",
        "Monatliche Gebühr pro angeschlossenem Fahrer, Oktober 2026: 11 von 31 Tagen",
        "Garantie und Arbeitsleistung zu Hause pro Fahrer, Oktober 2026",
        "Servicegebühr Erstattung pro bezahlter Erstattungsabrechnung",
        "Servicegebühr öffentliches Laden: 3 % von 14,34\xa0€",
    ]
    trx = invoice(org, InvoiceKind.TRANSACTIONS)
    descriptions = [line.description for line in trx.lines.all()]
    assert descriptions[0].startswith("Öffentliches Laden · 3. Okt. 2026 · Dana Driver")
    assert descriptions[2].startswith("Dem Fahrer erstattetes Laden zu Hause")
    assert "(September 2026)" in descriptions[2]
    (job_line,) = invoice(org, InvoiceKind.BUNDLE, driver=voltlease["dana"]).lines.all()
    assert job_line.description.startswith("Wallbox und Installation")
    assert "abgeschlossen am 20. Okt. 2026" in job_line.description
    assert not any("Public charging" in d or "October" in d for d in descriptions)


def test_once_invoiced_the_driver_can_no_longer_change_the_purpose(voltlease):
    from django.core.exceptions import ValidationError

    from evdms.public_charging.services.purpose import PURPOSE_FIXED, session_purpose_set

    invoices_run(OCT, issue_date=ISSUED)
    billed = ChargingSession.objects.filter(purpose=SessionPurpose.BUSINESS)[0]
    with pytest.raises(ValidationError) as refused:
        session_purpose_set(
            driver=voltlease["dana"], session=billed, purpose=SessionPurpose.PERSONAL
        )
    assert PURPOSE_FIXED in str(refused.value)
    # A personal session marked business later is billed on the next month's invoice.
    personal = ChargingSession.objects.get(purpose=SessionPurpose.PERSONAL)
    session_purpose_set(driver=voltlease["dana"], session=personal, purpose="business")
    invoices_run(date(2026, 11, 1), issue_date=date(2026, 12, 1))
    assert InvoiceLine.objects.get(session=personal).invoice.month == date(2026, 11, 1)


@pytest.mark.django_db(transaction=True)
def test_a_purpose_change_while_the_run_invoices_waits_and_is_then_refused(voltlease):
    """The run holds the organisation while it invoices: a driver marking a session
    Personal meanwhile waits for the run's commit, then finds it invoiced (the session
    is not invoiced as Business after its driver made it Personal)."""
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connection as db

    from evdms.public_charging.services.purpose import PURPOSE_FIXED, session_purpose_set
    from evdms.reimbursements import checkpoints

    billed = ChargingSession.objects.filter(purpose=SessionPurpose.BUSINESS).earliest("pk")
    outcome: list[str] = []

    def mark_personal() -> None:
        try:
            session_purpose_set(
                driver=voltlease["dana"], session=billed, purpose=SessionPurpose.PERSONAL
            )
            outcome.append("changed")
        except ValidationError as refused:
            outcome.append(str(refused))
        finally:
            db.close()

    marker = threading.Thread(target=mark_personal)
    waited: list[bool] = []

    def at(name: str) -> None:
        # Between reading the sessions and writing their lines: no lock of the lines
        # yet, only the run's hold on the organisation.
        if name == "sources-read" and not waited:
            marker.start()
            marker.join(timeout=1.5)  # the run's transaction is still open
            waited.append(marker.is_alive())

    with mock.patch.object(checkpoints, "checkpoint", at):
        invoices_run(OCT, issue_date=ISSUED)
    marker.join(timeout=30)
    assert waited == [True]  # it waited for the run
    assert len(outcome) == 1 and PURPOSE_FIXED in outcome[0]
    billed.refresh_from_db()
    assert billed.purpose == SessionPurpose.BUSINESS
    assert InvoiceLine.objects.filter(session=billed).count() == 1


def test_whole_months_count_any_day_connected_as_a_month(voltlease):
    org = voltlease["org"]
    org.fee_schedules.update(driver_fee_pro_rata=False)
    invoices_run(OCT, issue_date=ISSUED)
    srv = invoice(org, InvoiceKind.SERVICES)
    assert next((line.quantity, line.net_amount) for line in srv.lines.all()) == (
        D("2.000"),
        D("10.00"),
    )


def test_a_driver_who_left_mid_month_pays_the_days_connected(voltlease):
    org, connection = voltlease["org"], voltlease["connection"]
    w.driver(
        connection,
        "Lou Leaver",
        connected=datetime(2026, 3, 1, tzinfo=UTC),
        ended=w.local(date(2026, 10, 10), 15),
    )
    invoices_run(OCT, issue_date=ISSUED)
    srv = invoice(org, InvoiceKind.SERVICES)
    lou = srv.lines.get(driver_name="Lou Leaver")
    assert "10 of 31 days" in lou.description
    assert lou.net_amount == D("1.61")  # 5 × 10 / 31 = 1.6129…


def test_percentages_and_per_item_fees(voltlease):
    org = voltlease["org"]
    org.fee_schedules.update(
        reimbursement_fee_basis="percent",
        reimbursement_fee=D("2.5"),
        public_fee_basis="per_item",
        public_fee=D("0.35"),
    )
    invoices_run(OCT, issue_date=ISSUED)
    srv = invoice(org, InvoiceKind.SERVICES)
    fees = {line.source: line for line in srv.lines.all()}
    # 12.34 × 2.5 % = 0.3085 → 0.31
    assert fees[LineSource.REIMBURSEMENT_FEE].net_amount == D("0.31")
    assert fees[LineSource.PUBLIC_FEE].quantity == D("2.000")
    assert fees[LineSource.PUBLIC_FEE].net_amount == D("0.70")


def test_a_buyer_in_another_member_state_is_reverse_charged(voltlease):
    org = voltlease["org"]
    w.billed_organisation(org, country="BE", vat_number="BE0403170701")
    invoices_run(OCT, issue_date=ISSUED)
    trx = invoice(org, InvoiceKind.TRANSACTIONS)
    assert [line.vat_category for line in trx.lines.all()] == ["AE", "AE", "E"]
    assert trx.total_vat == 0 and trx.total_incl_vat == D("26.68")
    srv = invoice(org, InvoiceKind.SERVICES)
    assert srv.total_vat == 0 and srv.total_incl_vat == D("10.20")


def test_the_payer_organisation_receives_the_invoices(voltlease):
    org = voltlease["org"]
    lease = w.billed_organisation(make_organisation("lease", "Lease Co"))
    make_grant(grantor=org, grantee=lease)  # a payer is named under a grant
    org.invoice_payer = lease
    org.save()
    invoices_run(OCT, issue_date=ISSUED)
    assert set(Invoice.objects.values_list("organisation", "buyer")) == {(org.pk, lease.pk)}
    assert invoice(org, InvoiceKind.SERVICES).buyer_details["name"] == "Lease Co B.V."


def test_a_rerun_issues_nothing_new_and_a_late_cdr_goes_on_the_next_month(voltlease):
    org, dana = voltlease["org"], voltlease["dana"]
    invoices_run(OCT, issue_date=ISSUED)
    before = list(Invoice.objects.order_by("pk").values_list("number", "total_incl_vat"))
    again = invoices_run(OCT, issue_date=ISSUED)
    assert (again.issued, again.skipped, again.organisations) == (0, 1, 0)
    assert list(Invoice.objects.order_by("pk").values_list("number", "total_incl_vat")) == before

    # An October CDR that arrives after October was invoiced goes on November's.
    late = w.public_session(dana, org, w.local(date(2026, 10, 30)), "2.00")
    assert invoices_run(OCT, issue_date=ISSUED).issued == 0
    invoices_run(date(2026, 11, 1), issue_date=date(2026, 12, 1))
    nov = Invoice.objects.get(
        organisation=org, kind=InvoiceKind.TRANSACTIONS, month=date(2026, 11, 1)
    )
    assert list(nov.lines.values_list("session", flat=True)) == [late.pk]
    assert InvoiceLine.objects.filter(session__isnull=False).count() == 3
    # The installation was billed once, in October.
    assert InvoiceLine.objects.filter(source=LineSource.INSTALLATION).count() == 1


def test_a_credit_cdr_after_invoicing_is_deducted_once_and_nets_to_zero(voltlease):
    org = voltlease["org"]
    invoices_run(OCT, issue_date=ISSUED)
    session = ChargingSession.objects.get(
        purpose=SessionPurpose.BUSINESS, cost_excl_vat=D("10.335")
    )
    w.credit(session)
    invoices_run(date(2026, 11, 1), issue_date=date(2026, 12, 1))
    nov = Invoice.objects.get(
        organisation=org, kind=InvoiceKind.TRANSACTIONS, month=date(2026, 11, 1)
    )
    (deduction,) = nov.lines.all()
    assert deduction.source == LineSource.PUBLIC_SESSION_CREDIT
    assert deduction.credited_session_id == session.pk
    assert deduction.net_amount == D("-10.34")
    assert "TRX-2026-000001" in deduction.description
    assert (
        sum(InvoiceLine.objects.filter(session=session).values_list("net_amount", flat=True))
        + (deduction.net_amount)
        == 0
    )
    # Deducted once: December has nothing of it.
    invoices_run(date(2026, 12, 1), issue_date=date(2027, 1, 4))
    assert InvoiceLine.objects.filter(credited_session=session).count() == 1


def test_a_session_credited_before_it_was_invoiced_is_on_no_invoice(voltlease):
    session = ChargingSession.objects.filter(purpose=SessionPurpose.BUSINESS)[0]
    w.credit(session)
    invoices_run(OCT, issue_date=ISSUED)
    assert not InvoiceLine.objects.filter(session=session).exists()
    assert not InvoiceLine.objects.filter(credited_session=session).exists()


def test_pending_and_failed_payouts_are_not_billed(voltlease):
    org, eve = voltlease["org"], voltlease["eve"]
    w.paid_statement(eve, org, "8.00", settled=w.local(date(2026, 10, 7)), status="pending")
    w.paid_statement(
        eve,
        org,
        "9.00",
        settled=w.local(date(2026, 10, 7)),
        month=date(2026, 8, 1),
        status="failed",
    )
    invoices_run(OCT, issue_date=ISSUED)
    trx = invoice(org, InvoiceKind.TRANSACTIONS)
    assert trx.lines.filter(source=LineSource.REIMBURSEMENT).count() == 1


def test_zero_amount_invoices_are_not_issued():
    org = w.billed_organisation(make_organisation("quiet", "Quiet Co"))
    w.fee_schedule(org, driver_fee=D(0), warranty_fee=D(0))
    connection = w.public_connection(org)
    w.driver(connection, "Zed Zero")
    result = invoices_run(OCT, issue_date=ISSUED)
    assert result.issued == 0 and Invoice.objects.count() == 0


def test_an_organisation_that_cannot_be_invoiced_is_refused_and_the_others_go_on(voltlease, caplog):
    org = voltlease["org"]
    other = w.billed_organisation(make_organisation("rival", "Rival"))
    rival_driver = w.driver(w.public_connection(other), "Rob Rival")
    # Sessions whose sum no invoice total holds (beyond DecimalField(14, 2)).
    for _ in range(101):
        w.public_session(rival_driver, other, w.local(date(2026, 10, 4)), "9999999999.0000")
    with caplog.at_level(logging.ERROR, logger="evdms.invoicing"):
        result = invoices_run(OCT, issue_date=ISSUED)
    assert (result.refused, result.refused_ids) == (1, [other.pk])
    assert result.organisations == 1 and result.issued == 3
    assert not Invoice.objects.filter(organisation=other).exists()
    assert "Rival" in caplog.text
    # Nothing half-written: the refused organisation's session stays open, and no
    # number was used (Voltlease's are the first of each series).
    assert ChargingSession.objects.filter(organisation=other, invoice_line=None).count() == 101
    assert InvoiceSeries.objects.get(key="TRX-2026").next_number == 2
    assert org.invoices.count() == 3


def test_an_integrity_error_is_retried_then_refused(voltlease):
    calls = []
    real = run_module.invoice_issue

    def failing(**kwargs):
        calls.append(kwargs["kind"])
        from django.db import IntegrityError

        raise IntegrityError("something else")

    with mock.patch.object(run_module, "invoice_issue", failing):
        result = invoices_run(OCT, issue_date=ISSUED)
    assert result.refused == 1 and len(calls) == 2
    assert Invoice.objects.count() == 0
    assert real is run_module.invoice_issue


def test_the_command(voltlease, capsys):
    call_command("make_invoices", "--month", "2026-10")
    out = capsys.readouterr().out
    assert "October 2026: 3 invoice(s) issued to 1 organisation(s)" in out
    call_command("make_invoices", "--month", "2026-10")
    assert "0 invoice(s) issued to 0 organisation(s), 1 invoiced already" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["2026-13", "October", "2026-1", "26-10", ""])
def test_the_command_refuses_a_bad_month(db, bad):
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("make_invoices", "--month", bad or "x")


@pytest.mark.parametrize("month", ["this", "next", "9999-12"])
def test_the_command_refuses_a_month_not_over_yet(db, month):
    # An issued invoice never changes: a typo's month in the future would e-mail
    # invoices for fees not yet due and close that month to fee schedule changes.
    today = timezone.localdate()
    this = today.replace(day=1)
    value = {
        "this": f"{this:%Y-%m}",
        "next": f"{(this + timedelta(days=32)):%Y-%m}",
    }.get(month, month)
    with pytest.raises(CommandError, match="not over yet"):
        call_command("make_invoices", "--month", value)
    assert Invoice.objects.count() == 0


def test_the_statement_task_queues_the_invoice_run(voltlease):
    from evdms.reimbursements.tasks import make_statements

    make_statements.call(month="2026-10")
    # The test backend runs the queued task at once: October is invoiced.
    assert Invoice.objects.filter(month=OCT).count() == 3


def test_the_invoice_task(voltlease):
    from evdms.invoicing.tasks import make_invoices

    assert make_invoices.call(month="2026-10")["issued"] == 3
    assert make_invoices.call(month="2026-10")["issued"] == 0


# --- kill -9 and rerun ------------------------------------------------------------------
# Real processes on a real SQLite file, as the statement run's kill test does: a file
# database is migrated and filled once by a subprocess, then copied for each case; the
# command stops at a named checkpoint (``evdms.testing.stop_at``) and is SIGKILLed there.

KILL_ORGANISATIONS = 6


def build_kill_world() -> None:
    """Run in a subprocess: six organisations, each with two drivers, business and
    personal sessions, a paid statement and (every other one) an installation."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    for n in range(KILL_ORGANISATIONS):
        org = w.billed_organisation(make_organisation(f"org{n}", f"Organisation {n}"))
        w.fee_schedule(org)
        connection = w.public_connection(org)
        first = w.driver(connection, f"Driver {n}a")
        w.driver(connection, f"Driver {n}b", connected=w.local(date(2026, 10, 11 + n)))
        for i in range(3):
            w.public_session(first, org, w.local(date(2026, 10, 2 + i)), f"{n + 1}.{i}55")
        w.public_session(first, org, w.local(date(2026, 10, 8)), "3.00", purpose="personal")
        w.paid_statement(first, org, f"{10 + n}.07", settled=w.local(date(2026, 10, 6)))
        if n % 2 == 0:
            w.completed_job(first, org, completed=w.local(date(2026, 10, 20)))


def invoices_in(db) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        invoices = conn.execute(
            """SELECT o.slug, i.kind, i.number, CAST(i.total_excl_vat AS TEXT),
                      CAST(i.total_vat AS TEXT), i.id
               FROM invoicing_invoice i JOIN accounts_organisation o ON o.id = i.organisation_id
               ORDER BY i.number"""
        ).fetchall()
        result = []
        for slug, kind, number, excl, vat, pk in invoices:
            lines = conn.execute(
                """SELECT position, source, CAST(net_amount AS TEXT), session_id,
                          payout_line_id, job_id FROM invoicing_invoiceline
                   WHERE invoice_id = ? ORDER BY position""",
                (pk,),
            ).fetchall()
            result.append((slug, kind, number, D(excl), D(vat), tuple(lines)))
    return result


def assert_gapless(invoices: list[tuple]) -> None:
    series: dict[str, list[int]] = {}
    for _slug, _kind, number, *_ in invoices:
        key, _, serial = number.rpartition("-")
        series.setdefault(key, []).append(int(serial))
    for key, serials in series.items():
        assert sorted(serials) == list(range(1, len(serials) + 1)), key


KILL_COMMAND = ("make_invoices", "--month", "2026-10", "--chunk-size", "2")


@pytest.fixture(scope="module")
def kill_prepared(tmp_path_factory):
    from evdms.reimbursements.tests.test_kill_and_rerun import finish, python

    db = tmp_path_factory.mktemp("invoice-kill") / "prepared.sqlite3"
    code = (
        "import django; django.setup(); "
        "from evdms.invoicing.tests.test_run import build_kill_world; build_kill_world()"
    )
    finish(python(db, "-c", code))
    return db


@pytest.fixture(scope="module")
def kill_reference(kill_prepared, tmp_path_factory):
    from evdms.reimbursements.tests.test_kill_and_rerun import copy_of, finish, python

    db = copy_of(kill_prepared, tmp_path_factory.mktemp("invoice-reference"), "reference")
    finish(python(db, "manage.py", *KILL_COMMAND))
    invoices = invoices_in(db)
    # Six Transactions and Services invoices, three Bundles.
    assert len(invoices) == 15
    assert_gapless(invoices)
    return invoices


@pytest.mark.parametrize(
    ("checkpoint", "after", "organisations_before_kill"),
    [
        # Inside the third organisation's savepoint: the first chunk of two committed.
        ("invoices-written", "3", 2),
        ("chunk-committed", "2", 4),  # two chunks of two organisations committed
    ],
)
def test_a_run_killed_mid_way_and_run_again_issues_the_same_invoices_gapless(
    kill_prepared, kill_reference, tmp_path, checkpoint, after, organisations_before_kill
):
    from evdms.reimbursements.tests.test_kill_and_rerun import (
        copy_of,
        finish,
        kill_at_checkpoint,
        python,
    )

    db = copy_of(kill_prepared, tmp_path, checkpoint)
    kill_at_checkpoint(python(db, "-m", "evdms.testing.stop_at", checkpoint, after, *KILL_COMMAND))
    partial = invoices_in(db)
    # Whole organisations only: each with all of its invoices, numbered without gaps.
    assert {row[0] for row in partial} == {f"org{n}" for n in range(organisations_before_kill)}
    assert set(partial) <= set(kill_reference)
    assert_gapless(partial)

    out = finish(python(db, "manage.py", *KILL_COMMAND))
    assert "invoice(s) issued" in out
    assert invoices_in(db) == kill_reference
    finish(python(db, "manage.py", *KILL_COMMAND))  # and a third run changes nothing
    assert invoices_in(db) == kill_reference


def test_the_run_emails_each_invoice_once_to_accounts_payable(
    voltlease, mailoutbox, django_capture_on_commit_callbacks
):
    from evdms.invoicing.models import InvoiceStatus

    with django_capture_on_commit_callbacks(execute=True):
        invoices_run(OCT, issue_date=ISSUED)
    sent = {message.subject: message for message in mailoutbox}
    numbers = sorted(
        Invoice.objects.filter(organisation=voltlease["org"]).values_list("number", flat=True)
    )
    assert len(mailoutbox) == 3
    assert all(any(number in subject for subject in sent) for number in numbers)
    address = voltlease["org"].accounts_payable_email
    assert {tuple(message.to) for message in mailoutbox} == {(address,)}
    assert all(
        any(name.endswith(".pdf") for name, _, _ in message.attachments) for message in mailoutbox
    )
    assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.SENT}
    with django_capture_on_commit_callbacks(execute=True):
        invoices_run(OCT, issue_date=ISSUED)  # a rerun issues and e-mails nothing more
    assert len(mailoutbox) == 3


@pytest.mark.django_db
def test_an_organisation_refused_mid_chunk_rolls_back_alone_and_the_chunk_goes_on():
    """Three organisations in one chunk (one transaction): the second one's invoice is
    written and then fails; only its savepoint rolls back, the others are issued,
    numbered without a gap, and its sessions stay open for the next run."""
    orgs = []
    for n in range(3):
        org = w.billed_organisation(make_organisation(f"chunk{n}", f"Chunk {n}"))
        w.fee_schedule(org)
        driver = w.driver(w.public_connection(org), f"Driver {n}")
        w.public_session(driver, org, w.local(date(2026, 10, 3)), "4.20")
        orgs.append(org)
    real_issue = run_module.invoice_issue

    def failing_for_the_second(**kwargs):
        invoice = real_issue(**kwargs)  # written, then the organisation fails
        if kwargs["organisation"].pk == orgs[1].pk:
            raise ValueError("beyond a column")
        return invoice

    with mock.patch.object(run_module, "invoice_issue", failing_for_the_second):
        result = invoices_run(OCT, issue_date=ISSUED, chunk_size=3)
    assert result.refused_ids == [orgs[1].pk]
    assert set(Invoice.objects.values_list("organisation__slug", flat=True)) == {
        "chunk0",
        "chunk2",
    }
    assert_gapless(list(Invoice.objects.values_list("organisation", "kind", "number")))
    assert ChargingSession.objects.filter(organisation=orgs[1], invoice_line__isnull=True).exists()
    # The next run issues the refused organisation's invoices, numbered on from the others.
    again = invoices_run(OCT, issue_date=ISSUED, chunk_size=3)
    assert again.refused == 0
    assert Invoice.objects.filter(organisation=orgs[1]).count() == 2
    assert_gapless(list(Invoice.objects.values_list("organisation", "kind", "number")))
