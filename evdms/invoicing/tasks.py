"""Background work of invoicing: the monthly invoice run, which the statement run's task
queues once the statements of the month are made (so the scheduler's monthly job runs
statements, then invoices)."""

from __future__ import annotations

from django_tasks import task

from evdms.invoicing.management.commands.make_invoices import parse_month
from evdms.invoicing.services.run import invoices_run


@task()
def make_invoices(*, month: str) -> dict[str, int]:
    """Issue the invoices of ``month`` (YYYY-MM). Safe to run again: an invoice that
    exists is never issued twice, so a retried or duplicated task changes nothing."""
    return invoices_run(parse_month(month)).counts()
