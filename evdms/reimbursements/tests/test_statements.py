"""Statements: right to the cent, the cap kept, every session paid at most once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evdms.accounts.models import User
from evdms.charging.models import ChargingSession
from evdms.charging.services import charger_register
from evdms.reimbursements.models import HomePrice, Statement, StatementLine
from evdms.reimbursements.services import bank_account_set, statements
from evdms.reimbursements.services.statements import LineAmount, statement_total, statements_run
from evdms.reimbursements.tests.conftest import reimbursed_driver
from evdms.testing.fixtures import make_connection, make_membership

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def at(day: int, month: int = 10, hour: int = 20) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TZ)


@pytest.fixture
def dan(world):
    # Made before the sessions below, as in life (its maximum applies from then on).
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 1, 1, tzinfo=TZ)):
        connection = make_connection(world.org_a, max_price_per_kwh="0.30")
    dan = reimbursed_driver(world, connection)
    HomePrice.objects.create(
        driver=dan["driver"], price_per_kwh=Decimal("0.40"), valid_from=date(2026, 10, 15)
    )
    return dan


def session(dan, started: datetime, wh: int, tx: str) -> ChargingSession:
    return ChargingSession.objects.create(
        charger=dan["charger"],
        organisation_id=dan["charger"].organisation_id,
        driver=dan["driver"],
        connection=dan["connection"],
        transaction_id=tx,
        started_at=started,
        ended_at=started + timedelta(hours=2),
        energy_wh=wh,
        status="completed",
    )


def test_a_month_is_reimbursed_at_the_price_in_force_capped(dan):
    session(dan, at(3), 10_000, "a")  # 10 kWh × 0.25 = 2.50
    session(dan, at(20), 12_345, "b")  # 12.345 kWh × min(0.40, 0.30) = 3.7035
    session(dan, at(2, month=11), 5_000, "c")  # November: not in October's statement
    assert statements_run(date(2026, 10, 1)) == {"made": 1, "held": 0, "existing": 0}
    statement = Statement.objects.get()
    assert statement.total == Decimal("6.20")  # 6.2035, rounded once
    lines = {line.session.transaction_id: line for line in statement.lines.all()}
    assert lines["a"].price_used == Decimal("0.2500") and lines["a"].amount == Decimal("2.5")
    assert lines["b"].driver_price == Decimal("0.4000") and lines["b"].price_used == Decimal(
        "0.3000"
    )
    assert "c" not in lines


def test_a_cap_lowered_mid_month_applies_only_to_sessions_started_after_the_change(world, dan):
    from evdms.accounts.models import Role
    from evdms.accounts.permissions import Actor
    from evdms.connections.services import connection_update

    lowered = at(10, hour=12)
    with mock.patch("django.utils.timezone.now", return_value=lowered):
        connection_update(
            actor=Actor(organisation=world.org_a, role=Role.NETWORK_MANAGER),
            connection=dan["connection"],
            changes={"max_price_per_kwh": "0.20"},
            confirm_benefit_change=True,
        )
    session(dan, at(10, hour=11), 10_000, "before")  # 10 × min(0.25, 0.30) = 2.50
    session(dan, at(10, hour=13), 10_000, "after")  # 10 × min(0.25, 0.20) = 2.00
    session(dan, at(20), 10_000, "after-price")  # 10 × min(0.40, 0.20) = 2.00
    statements_run(date(2026, 10, 1))
    statement = Statement.objects.get()
    lines = {line.session.transaction_id: line for line in statement.lines.all()}
    assert (lines["before"].cap, lines["before"].amount) == (Decimal("0.30"), Decimal("2.5"))
    assert (lines["after"].cap, lines["after"].amount) == (Decimal("0.20"), Decimal("2"))
    assert lines["after-price"].price_used == Decimal("0.20")
    assert statement.total == Decimal("6.50")


def test_sessions_started_while_the_connection_did_not_reimburse_are_not_reimbursed(world, dan):
    from evdms.accounts.models import Role
    from evdms.accounts.permissions import Actor
    from evdms.connections.services import connection_update

    with mock.patch("django.utils.timezone.now", return_value=at(15, hour=0)):
        connection_update(
            actor=Actor(organisation=world.org_a, role=Role.NETWORK_MANAGER),
            connection=dan["connection"],
            changes={"reimburse_home_charging": "no", "max_price_per_kwh": ""},
            confirm_benefit_change=True,
        )
    session(dan, at(5), 10_000, "reimbursed")
    session(dan, at(16), 10_000, "not reimbursed")
    statements_run(date(2026, 10, 1))
    statement = Statement.objects.get()
    assert [line.session.transaction_id for line in statement.lines.all()] == ["reimbursed"]
    assert statement.total == Decimal("2.50")


def test_running_again_changes_nothing_and_late_sessions_go_to_the_next_month(dan):
    session(dan, at(5), 8_000, "a")
    statements_run(date(2026, 10, 1))
    first = list(Statement.objects.values_list("pk", "total"))
    late = session(dan, at(28), 4_000, "late")  # arrives after October was closed
    assert statements_run(date(2026, 10, 1)) == {"made": 0, "held": 0, "existing": 1}
    assert list(Statement.objects.values_list("pk", "total")) == first
    statements_run(date(2026, 11, 1))
    november = Statement.objects.get(month=date(2026, 11, 1))
    line = november.lines.get()
    assert line.session == late and line.late is True


def test_missing_bank_details_hold_the_statement(dan):
    from evdms.reimbursements.models import BankAccount

    BankAccount.objects.update(retired_at=timezone.now())
    session(dan, at(5), 8_000, "a")
    statements_run(date(2026, 10, 1))
    statement = Statement.objects.get()
    assert statement.status == "held" and statement.held_reason == "no bank details"


def test_bank_details_given_later_release_the_held_statement_to_that_account(dan):
    from evdms.reimbursements.models import BankAccount

    BankAccount.objects.update(retired_at=timezone.now())
    session(dan, at(5), 8_000, "a")
    statements_run(date(2026, 10, 1))
    account = bank_account_set(driver=dan["driver"], holder="Dan Driver", iban="BE68539007547034")
    statement = Statement.objects.get()
    assert (statement.status, statement.held_reason) == ("ready", "")
    assert statement.bank_account == account
    from evdms.reimbursements.services.payouts import payout_batch_create

    batch = payout_batch_create(execution_date=date(2026, 11, 5))
    assert batch.lines.get().statement == statement  # paid with the next payout


def test_a_statement_also_missing_a_price_stays_held_for_that(dan):
    from evdms.reimbursements.models import BankAccount

    BankAccount.objects.update(retired_at=timezone.now())
    HomePrice.objects.all().delete()
    session(dan, at(5), 8_000, "a")
    statements_run(date(2026, 10, 1))
    assert Statement.objects.get().held_reason == "no bank details; no home price for some sessions"
    bank_account_set(driver=dan["driver"], holder="Dan Driver", iban="BE68539007547034")
    statement = Statement.objects.get()
    assert (statement.status, statement.held_reason) == ("held", "no home price for some sessions")


def test_a_new_account_is_used_for_ready_statements_not_yet_in_a_batch(dan):
    session(dan, at(5), 8_000, "a")
    statements_run(date(2026, 10, 1))
    account = bank_account_set(driver=dan["driver"], holder="Dan Driver", iban="BE68539007547034")
    assert Statement.objects.get().bank_account == account


def test_an_interrupted_run_leaves_whole_statements_and_a_rerun_completes_it(world, dan):
    other = User.objects.create_user("eve@example.com", "eve's long passphrase")
    make_membership(dan["connection"], other)
    charger, _ = charger_register(
        actor=None,
        organisation=world.org_a,
        identity="E-1",
        serial="S",
        driver=other,
    )
    HomePrice.objects.create(
        driver=other, price_per_kwh=Decimal("0.20"), valid_from=date(2026, 1, 1)
    )
    session(dan, at(5), 8_000, "a")
    ChargingSession.objects.create(
        charger=charger,
        organisation_id=charger.organisation_id,
        driver=other,
        connection=dan["connection"],
        transaction_id="e",
        started_at=at(6),
        ended_at=at(6) + timedelta(hours=1),
        energy_wh=3_000,
        status="completed",
    )
    real = statements._chunk_write
    calls = {"n": 0}

    def dies_on_the_second(*args, **kwargs):
        calls["n"] += 1
        real(*args, **kwargs)
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the worker is killed before the chunk commits
        return None

    with (
        mock.patch.object(statements, "_chunk_write", dies_on_the_second),
        pytest.raises(KeyboardInterrupt),
    ):
        statements_run(date(2026, 10, 1), chunk_size=1)  # one driver per transaction
    assert Statement.objects.count() == 1 and StatementLine.objects.count() == 1
    call_command("make_statements", "--month", "2026-10")
    assert Statement.objects.count() == 2
    assert sorted(Statement.objects.values_list("total", flat=True)) == [
        Decimal("0.60"),
        Decimal("2.00"),
    ]
    assert StatementLine.objects.count() == 2


amounts = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=150_000),
        st.decimals(min_value="0.0001", max_value="2", places=4),
        st.decimals(min_value="0.0001", max_value="1", places=4),
    ),
    min_size=1,
    max_size=60,
)


@given(amounts)
@settings(
    max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
def test_totals_are_the_rounded_sum_the_cap_is_kept_and_rounding_is_under_half_a_cent(items):
    lines = [LineAmount(wh, price, cap) for wh, price, cap in items]
    exact = sum((line.amount for line in lines), Decimal(0))
    total = statement_total([line.amount for line in lines])
    assert abs(total - exact) <= Decimal("0.005")
    assert total == exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    for line in lines:
        assert line.price_used <= line.cap and line.price_used <= line.driver_price
        assert line.amount == Decimal(line.energy_wh) / 1000 * line.price_used


@given(st.lists(st.integers(min_value=1, max_value=60_000), min_size=1, max_size=12))
@settings(
    max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
def test_statement_total_equals_its_lines_and_reruns_change_nothing(dan, energies):
    StatementLine.objects.all().delete()
    Statement.objects.all().delete()
    ChargingSession.objects.all().delete()
    for i, wh in enumerate(energies):
        session(dan, at(1 + i), wh, f"s{i}")
    statements_run(date(2026, 10, 1))
    statement = Statement.objects.get()
    line_amounts = list(statement.lines.values_list("amount", flat=True))
    assert statement.total == statement_total(line_amounts)
    before = list(StatementLine.objects.order_by("pk").values_list("pk", "amount"))
    statements_run(date(2026, 10, 1))
    assert list(StatementLine.objects.order_by("pk").values_list("pk", "amount")) == before


def test_ready_statements_are_paid_once_by_a_sepa_file(dan):
    import xml.etree.ElementTree as ET

    from django.core.exceptions import ValidationError

    from evdms.reimbursements.services.payouts import payout_batch_create, payout_batch_export

    session(dan, at(3), 10_000, "a")
    statements_run(date(2026, 10, 1))
    statement = Statement.objects.get()
    batch = payout_batch_create(execution_date=date(2026, 11, 5))
    statement.refresh_from_db()
    assert statement.status == "in_batch" and batch.total == statement.total
    with pytest.raises(ValidationError, match="No statement is ready"):
        payout_batch_create(execution_date=date(2026, 11, 5))  # never in two batches
    xml = payout_batch_export(batch=batch)
    assert payout_batch_export(batch=batch) == xml  # the same file again
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"}
    root = ET.fromstring(xml)
    assert root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=ns) == "1"
    assert (
        root.findtext(".//p:CdtTrfTxInf/p:CdtrAcct/p:Id/p:IBAN", namespaces=ns)
        == "NL91ABNA0417164300"
    )
    assert (
        Decimal(root.findtext(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", namespaces=ns) or "0")
        == statement.total
    )
    assert root.findtext(".//p:PmtId/p:EndToEndId", namespaces=ns) == statement.reference


def test_the_driver_gets_the_statement_as_pdf_by_e_mail_and_on_the_page(
    dan, mailoutbox, django_capture_on_commit_callbacks
):
    import io

    from django.test import Client
    from django.urls import reverse
    from pypdf import PdfReader

    session(dan, at(3), 10_000, "a")
    with django_capture_on_commit_callbacks(execute=True):
        statements_run(date(2026, 10, 1))
    statement = Statement.objects.get()
    mail = next(
        m for m in mailoutbox if m.subject == "Your home charging reimbursement for October 2026"
    )
    assert mail.to == ["dan@example.com"] and "€2.50" in mail.body
    name, content, kind = mail.attachments[0]
    assert name == f"{statement.reference}.pdf" and kind == "application/pdf"
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "2.50" in text and "10.000" in text and "NL" in text
    client = Client()
    client.force_login(dan["driver"], backend="evdms.accounts.backends.EmailBackend")
    page = client.get(reverse("reimbursements:mine")).content.decode()
    assert statement.reference in page and "€2.50" in page
    pdf = client.get(reverse("reimbursements:statement_pdf", args=[statement.pk]))
    assert pdf["Content-Type"] == "application/pdf"


def test_the_organisation_reads_statements_by_api_and_csv(world, dan, api_key_for, client):
    import csv
    import io

    from evdms.accounts.models import Role

    session(dan, at(3), 10_000, "a")
    statements_run(date(2026, 10, 1))
    headers = api_key_for(world.org_a, Role.ANALYST)
    body = client.get("/api/v1/statements?month=2026-10", headers=headers).json()
    assert body["count"] == 1
    item = body["items"][0]
    assert (item["driver_email"], item["energy_wh"], item["total"]) == (
        "dan@example.com",
        10000,
        "2.50",
    )
    rows = list(
        csv.reader(
            io.StringIO(client.get("/api/v1/statements.csv", headers=headers).content.decode())
        )
    )
    assert rows[1][2:6] == ["dan@example.com", str(dan["connection"].pk), "10.000", "2.50"]
    assert client.get("/api/v1/statements?month=october", headers=headers).status_code == 422
    assert client.get("/api/v1/statements", headers=api_key_for(world.org_b)).json()["count"] == 0
    assert (
        client.get(
            "/api/v1/statements",
            headers=api_key_for(world.org_a, Role.CONNECTIONS_OFFICER, name="co"),
        ).status_code
        == 403
    )


def more_drivers(world, dan, count: int) -> list[User]:
    """Drivers of Dan's connection, each with a few sessions in October and one in
    September (so late lines too), a price and bank details (but the last has none)."""
    drivers = []
    for n in range(count):
        driver = User.objects.create_user(f"d{n}@example.com", "a long passphrase here")
        make_membership(dan["connection"], driver)
        charger, _ = charger_register(
            actor=None,
            organisation=world.org_a,
            identity=f"C-{n}",
            serial="S",
            driver=driver,
        )
        HomePrice.objects.create(
            driver=driver,
            price_per_kwh=Decimal("0.1") + Decimal(n) / 7,
            valid_from=date(2026, 1, 1),
        )
        if n < count - 1:
            bank_account_set(driver=driver, holder=f"Driver {n}", iban="NL91ABNA0417164300")
        for i in range(4):
            ChargingSession.objects.create(
                charger=charger,
                organisation_id=charger.organisation_id,
                driver=driver,
                connection=dan["connection"],
                transaction_id=f"{n}-{i}",
                started_at=at(1 + i * 7, month=9 if i == 0 else 10),
                energy_wh=1_234 * (n + 1) + i,
                status="completed",
            )
        drivers.append(driver)
    return drivers


def statements_as_a_user_sees_them() -> list[tuple]:
    return sorted(
        (
            s.driver.email,
            s.month,
            s.total,
            s.status,
            s.held_reason,
            tuple(
                (line.session.transaction_id, line.amount, line.late)
                for line in s.lines.order_by("session__transaction_id")
            ),
        )
        for s in Statement.objects.all()
    )


def test_a_run_in_many_small_chunks_makes_the_same_statements_as_one_chunk(world, dan):
    from django.db import transaction

    more_drivers(world, dan, 5)
    session(dan, at(3), 10_000, "a")
    with transaction.atomic():
        statements_run(date(2026, 10, 1))
        whole = statements_as_a_user_sees_them()
        transaction.set_rollback(True)
    assert Statement.objects.count() == 0
    assert statements_run(date(2026, 10, 1), chunk_size=2) == {
        "made": 5,
        "held": 1,
        "existing": 0,
    }
    assert statements_as_a_user_sees_them() == whole
    assert StatementLine.objects.filter(late=True).count() == 5  # the September sessions


def test_the_run_needs_the_same_queries_for_many_sessions_as_for_few(world, dan):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    session(dan, at(3), 10_000, "a")
    with transaction.atomic(), CaptureQueriesContext(connection) as few:
        statements_run(date(2026, 10, 1))
        transaction.set_rollback(True)
    more_drivers(world, dan, 6)
    with CaptureQueriesContext(connection) as many:
        statements_run(date(2026, 10, 1))
    assert Statement.objects.count() == 7
    assert len(many) == len(few)


def test_each_driver_gets_the_statement_e_mail_once_whatever_reruns_do(
    world, dan, mailoutbox, django_capture_on_commit_callbacks
):
    from evdms.notifications.models import OutboundEmail
    from evdms.reimbursements.statement_emails import statements_email

    more_drivers(world, dan, 2)
    session(dan, at(3), 10_000, "a")
    with django_capture_on_commit_callbacks(execute=True):
        statements_run(date(2026, 10, 1))
    with django_capture_on_commit_callbacks(execute=True):
        statements_run(date(2026, 10, 1))  # a rerun
        statements_email.enqueue(statement_ids=list(Statement.objects.values_list("pk", flat=True)))
    letters = OutboundEmail.objects.filter(template="reimbursement_statement")
    assert sorted(e.to[0] for e in letters) == [
        "d0@example.com",
        "d1@example.com",
        "dan@example.com",
    ]
    assert len([m for m in mailoutbox if "reimbursement" in m.subject]) == 3
    # A worker killed after the statements committed but before the e-mails were made:
    # the next run sends what is missing, and only that.
    late_statement = Statement.objects.get(driver__email="d1@example.com")
    letters.filter(to=["d1@example.com"]).delete()
    Statement.objects.filter(pk=late_statement.pk).update(emailed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        statements_run(date(2026, 10, 1))
    assert sorted(e.to[0] for e in letters.all()) == [
        "d0@example.com",
        "d1@example.com",
        "dan@example.com",
    ]
    held = next(m for m in mailoutbox if m.to == ["d1@example.com"])
    assert "on hold: no bank details" in held.body


def test_a_payout_export_that_fails_mid_way_leaves_the_batch_as_it_was(dan):
    from evdms.reimbursements.models import PayoutBatch
    from evdms.reimbursements.services import payouts

    session(dan, at(3), 10_000, "a")
    statements_run(date(2026, 10, 1))
    batch = payouts.payout_batch_create(execution_date=date(2026, 11, 5))
    with (
        mock.patch.object(payouts, "audit_record", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        payouts.payout_batch_export(batch=batch)  # fails after the file was set on the batch
    assert PayoutBatch.objects.values_list("status", "sepa_xml", "message_id").get() == (
        "draft",
        "",
        "",
    )
    assert b"<CdtTrfTxInf>" in payouts.payout_batch_export(batch=batch)
    assert PayoutBatch.objects.get().status == "exported"


def fail_payment(statement: Statement) -> None:
    """What the payouts side does when the bank returns the transfer."""
    Statement.objects.filter(pk=statement.pk).update(status="failed")


def test_a_failed_payment_is_carried_into_the_next_statement_once_with_a_notice(
    dan, mailoutbox, django_capture_on_commit_callbacks
):
    import io

    from pypdf import PdfReader

    from evdms.reimbursements.models import CarryOver
    from evdms.reimbursements.statement_pdf import statement_pdf

    session(dan, at(3), 10_000, "oct")  # 2.50
    statements_run(date(2026, 10, 1))
    october = Statement.objects.get()
    fail_payment(october)
    session(dan, at(4, month=11), 4_321, "nov")  # 4.321 × 0.40 capped at 0.30 = 1.2963
    with django_capture_on_commit_callbacks(execute=True):
        statements_run(date(2026, 11, 1))
        statements_run(date(2026, 11, 1))  # a rerun carries nothing twice
    november = Statement.objects.get(month=date(2026, 11, 1))
    assert november.total == Decimal("1.30") + Decimal("2.50")
    assert november.status == "ready" and november.lines.count() == 1
    october.refresh_from_db()
    assert october.status == "carried_over" and october.get_status_display() == "Carried over"
    assert CarryOver.objects.get().failed_statement == october
    notice = f"Payment of {october.reference} failed, added here"
    mail = next(m for m in mailoutbox if "November 2026" in m.subject)
    assert f"{notice}: €2.50" in mail.body and "€3.80" in mail.body
    text = PdfReader(io.BytesIO(mail.attachments[0][1])).pages[0].extract_text()
    assert notice in text and "3.80" in text
    october_pdf = PdfReader(io.BytesIO(statement_pdf(october))).pages[0].extract_text()
    assert f"Carried over (added to {november.reference})" in october_pdf
    # December: nothing left to carry.
    session(dan, at(2, month=12), 1_000, "dec")
    statements_run(date(2026, 12, 1))
    assert Statement.objects.get(month=date(2026, 12, 1)).total == Decimal("0.30")
    assert CarryOver.objects.count() == 1


def test_a_failed_payment_of_a_driver_without_new_sessions_gets_a_statement_of_its_own(dan):
    session(dan, at(3), 10_000, "oct")
    statements_run(date(2026, 10, 1))
    october = Statement.objects.get()
    fail_payment(october)
    assert statements_run(date(2026, 11, 1)) == {"made": 1, "held": 0, "existing": 0}
    november = Statement.objects.get(month=date(2026, 11, 1))
    assert (november.total, november.lines.count()) == (Decimal("2.50"), 0)
    assert november.carry_overs.get().failed_statement == october


def test_a_payment_failing_after_the_next_statement_was_made_waits_for_the_one_after(dan):
    session(dan, at(3), 10_000, "oct")
    session(dan, at(4, month=11), 2_000, "nov")
    statements_run(date(2026, 10, 1))
    statements_run(date(2026, 11, 1))
    october = Statement.objects.get(month=date(2026, 10, 1))
    fail_payment(october)
    statements_run(date(2026, 11, 1))  # November exists already: it is never changed
    assert Statement.objects.get(month=date(2026, 11, 1)).total == Decimal("0.60")
    statements_run(date(2026, 12, 1))
    december = Statement.objects.get(month=date(2026, 12, 1))
    assert december.total == Decimal("2.50") and december.carry_overs.count() == 1


def test_a_failed_statement_is_carried_over_at_most_once_by_the_database(dan):
    from django.db import IntegrityError, transaction

    from evdms.reimbursements.models import CarryOver

    session(dan, at(3), 10_000, "oct")
    session(dan, at(4, month=11), 2_000, "nov")
    statements_run(date(2026, 10, 1))
    statements_run(date(2026, 11, 1))
    october, november = Statement.objects.order_by("month")
    CarryOver.objects.create(failed_statement=october, statement=november, amount=october.total)
    with pytest.raises(IntegrityError), transaction.atomic():
        CarryOver.objects.create(failed_statement=october, statement=november, amount=october.total)


def test_a_failed_statement_paid_after_all_while_the_run_computes_is_not_carried(dan):
    from evdms.reimbursements.models import CarryOver

    session(dan, at(3), 10_000, "oct")
    statements_run(date(2026, 10, 1))
    october = Statement.objects.get()
    fail_payment(october)
    session(dan, at(4, month=11), 2_000, "nov")
    real = statements._chunk_plan
    calls = {"n": 0}

    def payouts_act_meanwhile(*args, **kwargs):
        plan = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:  # the bank's late confirmation arrives after the plan was made
            Statement.objects.filter(pk=october.pk).update(status="paid")
        return plan

    with mock.patch.object(statements, "_chunk_plan", payouts_act_meanwhile):
        statements_run(date(2026, 11, 1))
    assert calls["n"] == 2  # the chunk was read again
    assert Statement.objects.get(month=date(2026, 11, 1)).total == Decimal("0.60")
    october.refresh_from_db()
    assert october.status == "paid" and not CarryOver.objects.exists()


def test_the_operator_sees_the_carry_over_on_the_statement_in_the_admin(dan, admin_client):
    session(dan, at(3), 10_000, "oct")
    statements_run(date(2026, 10, 1))
    october = Statement.objects.get()
    fail_payment(october)
    statements_run(date(2026, 11, 1))
    november = Statement.objects.get(month=date(2026, 11, 1))
    page = admin_client.get(f"/platform-admin/reimbursements/statement/{november.pk}/change/")
    assert page.status_code == 200
    assert str(october) in page.content.decode()  # the failed statement, in the inline
