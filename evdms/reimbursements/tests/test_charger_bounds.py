"""A charger's absurd figures never become money, and never stop a statement run or a
payout batch for anyone else."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.charging.bounds import LINE_AMOUNT_MAX, SESSION_WH_STORABLE, Unstorable
from evdms.charging.models import Charger, ChargingSession
from evdms.charging.ocpp import handlers_v16 as charging
from evdms.charging.services import charger_register
from evdms.reimbursements.models import HomePrice, PayoutLine, Statement
from evdms.reimbursements.services import bank_account_set
from evdms.reimbursements.services.payouts import payout_batch_create
from evdms.reimbursements.services.statements import LineAmount, statements_run
from evdms.testing.fixtures import client_for, make_connection, make_membership

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
OCTOBER = date(2026, 10, 1)


def at(day: int, hour: int = 20) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=TZ)


@pytest.fixture
def connection(world):
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 1, 1, tzinfo=TZ)):
        return make_connection(
            world.org_a, max_price_per_kwh="0.30", home_charging_data_sharing="yes"
        )


def driver_with_charger(world, connection, email: str, price: str = "0.25"):
    driver = User.objects.create_user(email, "a long driver passphrase", full_name=email)
    membership = make_membership(connection, driver)
    membership.connected_at = datetime(2026, 1, 1, tzinfo=TZ)
    membership.save()
    charger, _ = charger_register(
        actor=None,
        organisation=world.org_a,
        identity=f"C-{email.split('@')[0]}",
        serial="S",
        driver=driver,
    )
    bank_account_set(driver=driver, holder=email, iban="NL91ABNA0417164300")
    HomePrice.objects.create(
        driver=driver, price_per_kwh=Decimal(price), valid_from=date(2026, 1, 1)
    )
    return driver, charger


def charge(charger, started: datetime, meter_start: int, meter_stop: int) -> ChargingSession:
    """A session as OCPP 1.6 reports it, through the protocol-neutral services."""
    with mock.patch("django.utils.timezone.now", return_value=started + timedelta(hours=3)):
        transaction_id = charging.start_transaction_v16(charger.pk, 1, "HOME", meter_start, started)
        charging.stop_transaction_v16(
            charger.pk, transaction_id, meter_stop, started + timedelta(hours=2)
        )
    return ChargingSession.objects.get(charger=charger, transaction_id=str(transaction_id))


@pytest.fixture
def three_drivers(world, connection):
    """Anna and Bert charge normally; Dan's charger once said meterStop 2^53."""
    drivers = {}
    for name in ("anna", "bert", "dan"):
        drivers[name] = driver_with_charger(world, connection, f"{name}@example.com")
    charge(drivers["anna"][1], at(3), 0, 10_000)
    charge(drivers["bert"][1], at(4), 500, 20_500)
    charge(drivers["dan"][1], at(5), 1_000, 13_000)
    absurd = charge(drivers["dan"][1], at(6), 0, 2**53)
    return {"drivers": drivers, "absurd": absurd}


def test_one_absurd_session_is_held_and_everyone_is_reimbursed_and_paid(
    three_drivers, world, operator
):
    assert statements_run(OCTOBER) == {"made": 3, "held": 0, "existing": 0}
    totals = {s.driver.email: s.total for s in Statement.objects.select_related("driver")}
    assert totals == {
        "anna@example.com": Decimal("2.50"),
        "bert@example.com": Decimal("5.00"),
        "dan@example.com": Decimal("3.00"),  # his good session only
    }
    absurd = ChargingSession.objects.get(pk=three_drivers["absurd"].pk)
    assert not hasattr(absurd, "statement_line")
    assert absurd.review == "pending" and absurd.energy_wh == 0
    batch = payout_batch_create(execution_date=date(2026, 11, 5), operator=operator)
    assert batch.total == Decimal("10.50") and PayoutLine.objects.count() == 3
    # Every page of statements reads, and a statement can be deleted.
    assert client_for(world.nadia).get("/statements/").status_code == 200
    assert client_for(world.nadia).get("/statements/?export=csv").status_code == 200
    staff = Client()
    staff.force_login(operator, backend="evdms.accounts.backends.EmailBackend")
    spare = Statement.objects.create(
        driver=three_drivers["drivers"]["anna"][0],
        connection=Statement.objects.get(driver__email="anna@example.com").connection,
        month=date(2026, 9, 1),
        currency="EUR",
        total=Decimal("1.00"),
        status="held",
    )
    assert staff.get("/platform-admin/reimbursements/statement/").status_code == 200
    deleted = staff.post(
        f"/platform-admin/reimbursements/statement/{spare.pk}/delete/", {"post": "yes"}
    )
    assert deleted.status_code == 302 and not Statement.objects.filter(pk=spare.pk).exists()


def test_a_session_no_statement_can_hold_is_held_with_the_reason_and_the_rest_is_made(
    world, connection
):
    """Accepted sessions at the largest storable energy and price: ten fill a statement
    to its column's limit; the eleventh is held, not written, and the run goes on."""
    connection.max_price_changes.update(max_price_per_kwh=Decimal("9999.9999"))
    big, charger = driver_with_charger(world, connection, "big@example.com", price="9999.9999")
    small, small_charger = driver_with_charger(world, connection, "small@example.com")
    for day in range(1, 12):
        ChargingSession.objects.create(
            charger=charger,
            organisation_id=charger.organisation_id,
            driver=big,
            connection=connection,
            transaction_id=str(day),
            started_at=at(day),
            ended_at=at(day) + timedelta(hours=1),
            energy_wh=SESSION_WH_STORABLE,
            status="completed",
            review="accepted",
        )
    charge(small_charger, at(3), 0, 4_000)
    result = statements_run(OCTOBER)
    assert result["made"] == 2 and result["sessions_held"] == 1
    statement = Statement.objects.get(driver=big)
    assert statement.lines.count() == 10 and statement.total == Decimal("9999999900.00")
    held = ChargingSession.objects.get(driver=big, statement_line__isnull=True)
    assert held.review == "pending" and held.started_at == at(11)
    assert any("beyond the largest total a statement holds" in f for f in held.flags)
    assert AuditEvent.objects.filter(action="charging_session.hold").count() == 1
    assert Statement.objects.get(driver=small).total == Decimal("1.00")
    assert statements_run(OCTOBER)["made"] == 0  # a rerun makes nothing more
    assert Statement.objects.count() == 2


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    meter_start=st.integers(min_value=-(2**70), max_value=2**70),
    meter_stop=st.integers(min_value=-(2**70), max_value=2**70),
)
def test_no_meter_values_a_charger_sends_make_an_amount_its_column_cannot_hold(
    world, connection, meter_start, meter_stop
):
    if not User.objects.filter(email="h@example.com").exists():
        driver_with_charger(world, connection, "h@example.com")
    charger = Charger.objects.get(identity="C-h")
    started = timezone.now() - timedelta(hours=3)
    try:
        transaction_id = charging.start_transaction_v16(charger.pk, 1, "HOME", meter_start, started)
        charging.stop_transaction_v16(charger.pk, transaction_id, meter_stop, timezone.now())
    except Unstorable:
        assert max(abs(meter_start), abs(meter_stop)) > 2**63 - 1
        return
    session = ChargingSession.objects.get(charger=charger, transaction_id=str(transaction_id))
    assert 0 <= session.energy_wh <= SESSION_WH_STORABLE
    if session.energy_wh > 100_000:  # more than 22 kW delivers in 3 hours
        assert session.review == "pending"
    largest = LineAmount(session.energy_wh, Decimal("9999.9999"), Decimal("9999.9999")).amount
    assert largest <= LINE_AMOUNT_MAX


def test_a_held_session_is_accepted_or_rejected_by_its_organisation(world, connection, api_key_for):
    _, charger = driver_with_charger(world, connection, "dan@example.com")
    with mock.patch("django.utils.timezone.now", return_value=at(20)):
        held = charge(charger, at(5), 0, 150_000)  # 150 kWh in 2 h
        rejected = charge(charger, at(6), 0, 2**40)
    assert held.review == rejected.review == "pending"
    nadia, ana, bob = client_for(world.nadia), client_for(world.ana), client_for(world.bob)
    page = nadia.get("/home-charging/").content.decode()
    assert "Held for review" in page and f"/home-charging/sessions/{held.pk}/review/" in page
    assert (
        f"/home-charging/sessions/{held.pk}/review/"
        not in ana.get("/home-charging/").content.decode()
    )
    url = f"/home-charging/sessions/{held.pk}/review/"
    assert ana.post(url, {"decision": "accept"}).status_code == 403
    assert bob.post(url, {"decision": "accept"}).status_code == 404
    assert statements_run(OCTOBER)["made"] == 0  # nothing reimbursable yet

    answer = nadia.post(url, {"decision": "accept"}, follow=True)
    assert "counts on the next statement run" in answer.content.decode()
    again = client_for(world.otto).post(url, {"decision": "reject"}, follow=True)
    assert "not awaiting review" in again.content.decode()
    held.refresh_from_db()
    assert held.review == "accepted" and held.reviewed_by == world.nadia.user
    assert AuditEvent.objects.filter(action="charging_session.accept").count() == 1

    # Through the API: the session beyond anything a statement holds cannot be accepted.
    key = api_key_for(world.org_a)
    api = Client()
    refused = api.post(
        f"/api/v1/charging-sessions/{rejected.pk}/review",
        {"decision": "accept"},
        content_type="application/json",
        headers=key,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "decision"]
    done = api.post(
        f"/api/v1/charging-sessions/{rejected.pk}/review",
        {"decision": "reject"},
        content_type="application/json",
        headers=key,
    )
    assert done.status_code == 200 and done.json()["review"] == "rejected"
    foreign = api.post(
        f"/api/v1/charging-sessions/{rejected.pk}/review",
        {"decision": "reject"},
        content_type="application/json",
        headers=api_key_for(world.org_b),
    )
    assert foreign.status_code == 404
    listed = api.get("/api/v1/charging-sessions?review=rejected", headers=key).json()
    assert [s["id"] for s in listed["items"]] == [rejected.pk]

    statements_run(OCTOBER)
    statement = Statement.objects.get()
    assert [line.session_id for line in statement.lines.all()] == [held.pk]  # rejected: never
    assert statement.total == Decimal("37.50")  # 150 kWh × 0.25


def test_a_home_price_dated_year_1_is_refused_next_to_the_field(world, connection):
    driver, _ = driver_with_charger(world, connection, "dan@example.com")
    client = Client()
    client.force_login(driver, backend="evdms.accounts.backends.EmailBackend")
    answer = client.post(
        "/my/reimbursement/home-price/", {"price_per_kwh": "0.25", "valid_from": "0001-01-01"}
    )
    assert answer.status_code == 422
    assert "Use a date from 1 Jan 2010" in answer.content.decode()
    assert statements_run(OCTOBER) == {"made": 0, "held": 0, "existing": 0}


def test_a_statement_the_database_refuses_is_held_and_the_run_goes_on(three_drivers):
    """Whatever makes one statement fail to be written (here the database refusing it),
    its sessions are held with the reason and every other statement is made."""
    from django.db import DatabaseError

    from evdms.reimbursements.services import statements

    dan = three_drivers["drivers"]["dan"][0]
    write = statements._chunk_write

    def refusing_dan(run, drafts):
        if any(draft.driver_id == dan.pk for draft in drafts):
            raise DatabaseError("numeric field overflow")
        write(run, drafts)

    with mock.patch.object(statements, "_chunk_write", refusing_dan):
        result = statements_run(OCTOBER)
    assert result == {"made": 2, "held": 0, "existing": 0, "not_made": 1}
    assert {s.driver.email for s in Statement.objects.select_related("driver")} == {
        "anna@example.com",
        "bert@example.com",
    }
    good = ChargingSession.objects.get(driver=dan, meter_start_wh=1_000)
    assert good.review == "pending"
    assert "not reimbursed: its statement could not be made: DatabaseError" in good.flags


def test_a_batch_takes_what_its_total_holds_and_the_rest_waits_for_the_next(
    make_statement, operator
):
    from evdms.reimbursements.services import payouts

    first = make_statement("anna@example.com", total="12.34")
    second = make_statement("bert@example.com", total="5.00")
    with mock.patch.object(payouts, "BATCH_TOTAL_MAX", Decimal("15.00")):
        one = payout_batch_create(execution_date=date(2026, 11, 5), operator=operator)
        other = payout_batch_create(execution_date=date(2026, 11, 5), operator=operator)
    assert [line.statement for line in one.lines.all()] == [first]
    assert [line.statement for line in other.lines.all()] == [second]


def test_a_held_session_without_data_sharing_is_reviewed_without_its_details(world):
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 1, 1, tzinfo=TZ)):
        private = make_connection(world.org_a, home_charging_data_sharing="no")
    _, charger = driver_with_charger(world, private, "eve@example.com")
    held = charge(charger, at(5), 0, 150_000)
    page = client_for(world.nadia).get("/home-charging/").content.decode()
    assert f"/home-charging/sessions/{held.pk}/review/" in page
    assert "October 2026" in page  # the month only, not the day and time
    assert "2:00:00" not in page and "150000 Wh" not in page  # nor the flags
    assert "details are shared only with Home Charging Data Sharing" in page
