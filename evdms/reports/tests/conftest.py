"""Hand-made home sessions for the report tests.

Voltlease (A) has two connections that share home charging data, "Acme_Home" (Customer
ID CRM-1) and "Globex_Home" (CRM-2), and "Private_Home", which does not share. Dan is
a driver of Acme_Home (Employee ID E-100, plate AB-12-CD), Eve of Globex_Home. Rival
Lease (B) has "Rival_Home" with Rob's sessions, which Voltlease must never see.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from evdms.accounts.models import User
from evdms.charging.models import Charger, ChargingSession
from evdms.connections.models import Connection
from evdms.enrolment.models import Membership
from evdms.reimbursements.models import Statement, StatementLine
from evdms.testing.fixtures import World, make_connection, make_membership

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_numbers = itertools.count(1)


def at(day: int, month: int = 10, hour: int = 20, minute: int = 0) -> datetime:
    """A time in the organisation's zone (Europe/Amsterdam, the test settings' zone)."""
    return datetime(2026, month, day, hour, minute, tzinfo=AMSTERDAM)


@dataclass
class Fleet:
    world: World
    acme: Connection
    globex: Connection
    private: Connection
    rival: Connection
    dan: User
    eve: User
    rob: User
    dan_membership: Membership

    def session(
        self,
        driver: User,
        connection: Connection,
        started: datetime,
        wh: int,
        minutes: int = 90,
    ) -> ChargingSession:
        from datetime import timedelta

        charger, _ = Charger.objects.get_or_create(
            identity=f"HOME-{driver.pk}",
            defaults={
                "organisation": connection.organisation,
                "serial": f"SN-{driver.pk}",
                "password_hash": "-",
                "driver": driver,
            },
        )
        return ChargingSession.objects.create(
            charger=charger,
            organisation_id=charger.organisation_id,
            driver=driver,
            connection=connection,
            transaction_id=f"T{next(_numbers)}",
            started_at=started,
            ended_at=started + timedelta(minutes=minutes),
            energy_wh=wh,
            status="completed",
        )


def on_statement(session: ChargingSession, driver_price: str, cap: str) -> Statement:
    """Put a session on a statement as the monthly run would (one line)."""
    price = min(Decimal(driver_price), Decimal(cap))
    amount = Decimal(session.energy_wh) / 1000 * price
    assert session.connection is not None and session.driver is not None
    statement, _ = Statement.objects.get_or_create(
        driver=session.driver,
        connection=session.connection,
        month=session.started_at.date().replace(day=1),  # type: ignore[union-attr]
        defaults={"currency": "EUR", "total": Decimal("0"), "status": "ready"},
    )
    StatementLine.objects.create(
        statement=statement,
        session=session,
        energy_wh=session.energy_wh,
        driver_price=Decimal(driver_price),
        cap=Decimal(cap),
        price_used=price,
        amount=amount,
    )
    exact = sum(statement.lines.values_list("amount", flat=True), Decimal(0))
    statement.total = exact.quantize(Decimal("0.01"), ROUND_HALF_UP)
    statement.save(update_fields=["total"])
    return statement


@pytest.fixture
def fleet(world: World) -> Fleet:
    acme = make_connection(
        world.org_a,
        name="Acme_Home",
        customer_id="CRM-1",
        home_charging_data_sharing="yes",
        verification_1_label="Employee ID",
        verification_2_label="Licence plate",
    )
    globex = make_connection(
        world.org_a, name="Globex_Home", customer_id="CRM-2", home_charging_data_sharing="yes"
    )
    private = make_connection(world.org_a, name="Private_Home", customer_id="CRM-3")
    rival = make_connection(
        world.org_b, name="Rival_Home", customer_id="CRM-1", home_charging_data_sharing="yes"
    )
    dan = User.objects.create(email="dan@example.com", full_name="Dan Driver")
    eve = User.objects.create(email="eve@example.com", full_name="Eve Ellis")
    rob = User.objects.create(email="rob@example.com", full_name="Rob Rival")
    dan_membership = make_membership(acme, dan)
    Membership.objects.filter(pk=dan_membership.pk).update(
        verification_1="E-100", verification_2="AB-12-CD"
    )
    make_membership(globex, eve)
    make_membership(rival, rob)
    return Fleet(world, acme, globex, private, rival, dan, eve, rob, dan_membership)
