"""Background work of reimbursement: the monthly statement run. The statement e-mail's
task lives in ``statement_emails``, which the run queues (see there)."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from evdms.reimbursements.services.statements import statements_run

# Re-exported: e-mail tasks queued before it moved are stored under this module's path.
from evdms.reimbursements.statement_emails import statements_email

__all__ = ["make_statements", "statements_email"]


@task()
def make_statements(*, month: str) -> dict[str, int]:
    """Make the statements of ``month`` (YYYY-MM). Safe to run again: a statement that
    exists is never made twice, so a retried or duplicated task changes nothing."""
    year, number = (int(part) for part in month.split("-"))
    result = statements_run(date(year, number, 1))
    from evdms.invoicing.tasks import make_invoices  # the invoices bill what was paid

    make_invoices.enqueue(month=f"{year:04d}-{number:02d}")
    return result
