"""Rows stored before the bounds existed are repaired by the migrations that add them:
the database then holds nothing a page, a statement run or a payout batch trips over."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from evdms.charging.models import ChargingSession
from evdms.charging.services import charger_register
from evdms.reimbursements.models import Statement
from evdms.reimbursements.services.statements import statements_run
from evdms.testing.fixtures import client_for, make_connection, make_membership

BEFORE = [
    ("charging", "0002_report_indexes"),
    ("reimbursements", "0006_merge_payouts_and_statements"),
]
AFTER = [
    ("charging", "0003_session_review_and_energy_bound"),
    ("reimbursements", "0007_amounts_fit_their_columns"),
]


@pytest.mark.django_db(transaction=True)
def test_an_absurd_session_and_its_overflowing_statement_are_repaired(world, migrate):
    from evdms.accounts.models import User

    dan = User.objects.create_user("dan@example.com", "dan's long passphrase")
    home = make_connection(world.org_a, home_charging_data_sharing="yes")
    make_membership(home, dan)
    charger, _ = charger_register(
        actor=None, organisation=world.org_a, identity="OLD-1", serial="S", driver=dan
    )
    old = migrate(BEFORE)
    session_model = old.get_model("charging", "ChargingSession")
    absurd = session_model.objects.create(
        charger_id=charger.pk,
        driver_id=dan.pk,
        connection_id=home.pk,
        transaction_id="1",
        started_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        meter_start_wh=0,
        meter_stop_wh=2**53,
        energy_wh=2**53,
        status="completed",
    )
    overflowing = None
    if connection.vendor == "sqlite":  # PostgreSQL never stored such a total
        statement_model = old.get_model("reimbursements", "Statement")
        overflowing = statement_model.objects.create(
            driver_id=dan.pk,
            connection_id=home.pk,
            month=date(2026, 10, 1),
            currency="EUR",
            total=Decimal("2251799813685.25"),
            status="ready",
        )
        old.get_model("reimbursements", "StatementLine").objects.create(
            statement=overflowing,
            session=absurd,
            energy_wh=2**53,
            driver_price=Decimal("0.25"),
            cap=Decimal("0.30"),
            price_used=Decimal("0.25"),
            amount=Decimal("2251799813685.248"),
        )

    after = migrate(AFTER)

    # Read with the models of that state: today's have columns added later.
    session = after.get_model("charging", "ChargingSession").objects.get(pk=absurd.pk)
    assert session.energy_wh == 0 and session.review == "pending"
    assert session.started_at is not None and session.started_at <= timezone.now()
    assert any("beyond what can be reimbursed" in f for f in session.flags)
    assert not Statement.objects.exists()
    # The page reads every column today's code has, added by later migrations too.
    migrate(MigrationLoader(connection).graph.leaf_nodes())
    assert ChargingSession.objects.get(pk=absurd.pk).organisation_id == world.org_a.pk
    assert client_for(world.nadia).get("/home-charging/").status_code == 200
    assert client_for(world.nadia).get("/statements/").status_code == 200
    assert statements_run(date(2026, 10, 1))["made"] == 0  # held: not made again
