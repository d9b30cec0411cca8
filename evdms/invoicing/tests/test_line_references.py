"""The lines of statements and invoices refer to their sessions, drivers and parents
without a database constraint (checked row by row, it was half the runs' cost): the
ORM still refuses to delete what a line refers to, and deleting nothing leaves a line
without its session."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import ProtectedError

from evdms.charging.models import ChargingSession
from evdms.invoicing.models import InvoiceLine
from evdms.invoicing.services.run import invoices_run
from evdms.invoicing.tests import run_world as w
from evdms.reimbursements.models import StatementLine
from evdms.testing.fixtures import make_organisation

pytestmark = pytest.mark.django_db


def test_what_a_line_names_cannot_be_deleted():
    org = w.billed_organisation(make_organisation("refs", "Refs Lease"))
    w.fee_schedule(org)
    dana = w.driver(w.public_connection(org), "Dana Driver")
    session = w.public_session(dana, org, w.local(date(2026, 10, 3)), "4.0000")
    w.paid_statement(dana, org, "12.34", settled=w.local(date(2026, 10, 6)))
    invoices_run(w.OCTOBER, issue_date=date(2026, 11, 2))

    line = InvoiceLine.objects.get(session=session)
    assert line.driver_id == dana.pk and line.invoice.organisation_id == org.pk
    with pytest.raises(ProtectedError):
        ChargingSession.objects.filter(pk=session.pk).delete()
    with pytest.raises(ProtectedError):
        dana.delete()
    statement_line = StatementLine.objects.select_related("session").first()
    assert statement_line is not None
    with pytest.raises(ProtectedError):
        statement_line.session.delete()
    # Every line's references resolve (a join finds each one).
    assert InvoiceLine.objects.filter(session__isnull=False).count() == (
        InvoiceLine.objects.filter(session__pk__gt=0).count()
    )
    assert StatementLine.objects.count() == StatementLine.objects.filter(session__pk__gt=0).count()


def test_the_runs_refresh_the_planners_statistics_of_what_they_write():
    """PostgreSQL plans a run's chunk queries with the statistics of the lines written
    so far (ANALYZE); SQLite has nothing to refresh."""
    from django.db import connection

    from evdms.bulk import statistics_refresh

    org = w.billed_organisation(make_organisation("stats", "Stats Lease"))
    w.fee_schedule(org)
    dana = w.driver(w.public_connection(org), "Dana Driver")
    for day in (3, 4, 5):
        w.public_session(dana, org, w.local(date(2026, 10, day)), "4.0000")
    invoices_run(w.OCTOBER, issue_date=date(2026, 11, 2))
    statistics_refresh(InvoiceLine)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE relname = %s",
                [InvoiceLine._meta.db_table],
            )
            assert cursor.fetchone()[0] == InvoiceLine.objects.count()
