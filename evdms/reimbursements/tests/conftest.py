"""Drivers with statements, made directly (the statement run has tests of its own)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from evdms.accounts.models import User
from evdms.charging.models import ChargingSession
from evdms.charging.services import charger_register
from evdms.reimbursements.models import Statement, StatementLine
from evdms.reimbursements.services import bank_account_set
from evdms.reimbursements.services.payouts import payout_batch_create, payout_batch_export
from evdms.testing.fixtures import World, make_connection, make_membership


def reimbursed_driver(world: World, connection: Any) -> dict[str, Any]:
    """Dan, connected to ``connection`` with a home charger, bank details and a home
    price of 0.25 per kWh from 1 January 2026."""
    from evdms.reimbursements.models import HomePrice

    driver = User.objects.create_user(
        "dan@example.com", "dan's long passphrase", full_name="Dan Driver"
    )
    make_membership(connection, driver)
    charger, _ = charger_register(
        actor=None,
        organisation=world.org_a,
        identity="D-1",
        serial="S",
        driver=driver,
    )
    bank_account_set(driver=driver, holder="Dan Driver", iban="NL91ABNA0417164300")
    HomePrice.objects.create(
        driver=driver, price_per_kwh=Decimal("0.25"), valid_from=date(2026, 1, 1)
    )
    return {"driver": driver, "connection": connection, "charger": charger}


@pytest.fixture
def make_statement(world: World) -> Callable[..., Statement]:
    """A statement of a driver (made on first use) with one line per (start, Wh)."""
    connections: dict[tuple[int, bool], Any] = {}

    def make(
        email: str,
        *,
        month: date = date(2026, 10, 1),
        sessions: Sequence[tuple[datetime, int]] = (),
        total: str = "10.00",
        status: str = "ready",
        sharing: bool = False,
        organisation: Any = None,
        iban: str = "NL91ABNA0417164300",
    ) -> Statement:
        organisation = organisation or world.org_a
        key = (organisation.pk, sharing)
        if key not in connections:
            connections[key] = make_connection(
                organisation,
                name=f"Home {'shared' if sharing else 'private'} {organisation.slug}",
                home_charging_data_sharing="yes" if sharing else "no",
            )
        connection = connections[key]
        driver = User.objects.filter(email=email).first()
        if driver is None:
            driver = User.objects.create_user(
                email, "a long driver passphrase", full_name=email.split("@")[0].title()
            )
            make_membership(connection, driver)
            bank_account_set(driver=driver, holder=driver.full_name, iban=iban)
        charger, _ = charger_register(
            actor=None,
            organisation=organisation,
            identity=f"C-{driver.pk}-{month:%Y%m}",
            serial="S",
            driver=driver,
        )
        statement = Statement.objects.create(
            driver=driver,
            connection=connection,
            month=month,
            currency="EUR",
            total=Decimal(total),
            status=status,
            bank_account=driver.bank_accounts.filter(retired_at=None).first(),
        )
        for number, (started, wh) in enumerate(sessions):
            session = ChargingSession.objects.create(
                charger=charger,
                organisation_id=charger.organisation_id,
                driver=driver,
                connection=connection,
                transaction_id=f"{statement.pk}-{number}",
                started_at=started,
                ended_at=started + timedelta(hours=2),
                energy_wh=wh,
                status="completed",
            )
            StatementLine.objects.create(
                statement=statement,
                session=session,
                energy_wh=wh,
                driver_price=Decimal("0.25"),
                cap=Decimal("0.30"),
                price_used=Decimal("0.25"),
                amount=Decimal(wh) / 1000 * Decimal("0.25"),
            )
        return statement

    return make


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create_user(
        "petra@platform.example",
        "petra's long passphrase",
        full_name="Petra Operator",
        is_staff=True,
        is_superuser=True,
    )


def october(day: int, hour: int = 20) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def exported(make_statement, operator):
    """An exported batch paying Anna €12.34 and Bert €5.00."""
    anna = make_statement("anna@example.com", total="12.34")
    bert = make_statement("bert@example.com", total="5.00", iban="DE89370400440532013000")
    batch = payout_batch_create(execution_date=date(2026, 11, 5), operator=operator)
    payout_batch_export(batch=batch, operator=operator)
    batch.refresh_from_db()
    lines = {
        line.statement.driver.email: line
        for line in batch.lines.select_related("statement__driver")
    }
    return {
        "batch": batch,
        "anna": lines["anna@example.com"],
        "bert": lines["bert@example.com"],
        "statements": (anna, bert),
    }
