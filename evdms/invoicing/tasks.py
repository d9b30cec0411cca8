"""Background work of invoicing, run by the worker (django-tasks): the monthly invoice
run, which the statement run's task queues once the statements of the month are made
(so the scheduler's monthly job runs statements, then invoices);
the daily overdue check (with its one reminder). Delivering an invoice is a task
of ``delivery`` (``invoice_deliver``), beside the send it runs."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django_tasks import task

from evdms.invoicing.management.commands.make_invoices import parse_month
from evdms.invoicing.services.payments import invoices_mark_overdue
from evdms.invoicing.services.run import invoices_run


@task()
def make_invoices(*, month: str) -> dict[str, int]:
    """Issue the invoices of ``month`` (YYYY-MM). Safe to run again: an invoice that
    exists is never issued twice, so a retried or duplicated task changes nothing."""
    return invoices_run(parse_month(month)).counts()


@task()
def mark_overdue_invoices(*, day: str = "") -> dict[str, int]:
    """Mark the invoices unpaid past their due date on ``day`` (YYYY-MM-DD, local; today
    when blank) overdue and remind each buyer once. Safe to run again: an invoice is
    marked and reminded once, however often the task runs."""
    today = date.fromisoformat(day) if day else timezone.localdate()
    result = invoices_mark_overdue(today)
    return {"overdue": len(result.overdue), "reminded": len(result.reminded)}
