"""The plain-row inserts the monthly runs write with (``evdms.bulk``): rows stored as the
ORM would store them, and a constraint clash raised as Django's ``IntegrityError`` on
both databases (on PostgreSQL the rows go through COPY on the driver's own cursor, whose
errors Django does not see unless they are turned into its own): the statement run's
"another worker made this chunk, try again" depends on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from evdms.accounts.models import User
from evdms.bulk import insert_rows
from evdms.reimbursements.models import Statement, StatementLine, StatementStatus
from evdms.reimbursements.services.statements import LINE_FIELDS
from evdms.testing.fixtures import make_connection, make_home_session, make_membership

pytestmark = pytest.mark.django_db(transaction=True)


def _statement_and_session(world):
    connection = make_connection(world.org_a, name="Fleet")
    driver = User.objects.create_user("dan@example.com", "dan's passphrase 12")
    make_membership(connection, driver)
    session = make_home_session(connection, driver, 12_345)
    statement = Statement.objects.create(
        driver=driver,
        connection=connection,
        month=date(2026, 11, 1),
        currency="EUR",
        total=Decimal("3.58"),
        status=StatementStatus.READY,
    )
    return statement, session


def test_rows_are_stored_as_given(world):
    statement, session = _statement_and_session(world)
    price, cap = Decimal("0.35"), Decimal("0.29")
    row = (statement.pk, session.pk, 12_345, price, cap, cap, Decimal("3.5800500"), True)
    insert_rows(StatementLine, LINE_FIELDS, [row])
    line = StatementLine.objects.get()
    assert (line.statement_id, line.session_id, line.energy_wh) == row[:3]
    assert (line.driver_price, line.cap, line.price_used, line.amount) == row[3:7]
    assert line.late is True


def test_a_constraint_clash_is_djangos_integrity_error(world):
    statement, session = _statement_and_session(world)
    price, cap = Decimal("0.35"), Decimal("0.29")
    row = (statement.pk, session.pk, 12_345, price, cap, cap, Decimal("3.58"), False)
    insert_rows(StatementLine, LINE_FIELDS, [row])
    # One line per session: the second is refused, and nothing of its batch is kept.
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(StatementLine, LINE_FIELDS, [row])
    assert StatementLine.objects.count() == 1
