"""Background work of reimbursement: the monthly statement run."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from evdms.reimbursements.statements import statements_run


@task()
def make_statements(*, month: str) -> dict[str, int]:
    """Make the statements of ``month`` (YYYY-MM). Safe to run again: a statement that
    exists is never made twice, so a retried or duplicated task changes nothing."""
    year, number = (int(part) for part in month.split("-"))
    return statements_run(date(year, number, 1))
