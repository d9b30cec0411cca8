"""Periodic jobs, enqueued by ``manage.py run_scheduler`` (started by ``serve`` next to
web, worker and gateway).

Each job says which period is due at a given time; the scheduler claims the row
(job, period) and enqueues the job's task in the same transaction. The row is unique, so
any number of scheduler processes (one per machine, or a restarted one) enqueue each
period exactly once; with the database task backend the task row commits together with
the claim, so a scheduler killed in between leaves neither and the next tick retries.
A scheduler that was down on the 1st catches up at its next tick in that month.

It lives in reimbursements because its first job was the monthly statement run; the
daily purge of old protocol issues (charging), the daily overdue check of invoices
(invoicing), the daily digest of connection requests (enrolment's Connection
Alerts) and OCPI's safety nets (token pushes, CDRs not matched yet) run through it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from evdms.reimbursements.models import ScheduledRun


def previous_month(now: datetime) -> str:
    """From the 1st of a month on (local time), the month before it is due."""
    first = timezone.localtime(now).date().replace(day=1)
    return f"{first - timedelta(days=1):%Y-%m}"


@dataclass(frozen=True)
class Job:
    name: str
    due_period: Callable[[datetime], str]
    enqueue: Callable[[str], Any]  # the period → a task result (with an id)


def _enqueue_statements(period: str) -> Any:
    from evdms.reimbursements.tasks import make_statements

    return make_statements.enqueue(month=period)


def today(now: datetime) -> str:
    """A daily job is due once each day (local time)."""
    return f"{timezone.localtime(now).date():%Y-%m-%d}"


def _enqueue_protocol_issues_purge(period: str) -> Any:
    from evdms.charging.tasks import purge_protocol_issues

    return purge_protocol_issues.enqueue()


def _enqueue_overdue_invoices(period: str) -> Any:
    from evdms.invoicing.tasks import mark_overdue_invoices

    return mark_overdue_invoices.enqueue(day=period)


def _enqueue_connection_alert_digests(period: str) -> Any:
    from evdms.enrolment.services.alerts import send_connection_alert_digests

    return send_connection_alert_digests.enqueue(day=period)


def every_ten_minutes(now: datetime) -> str:
    """Due once in each ten minutes (UTC): 144 ScheduledRun rows a day, for a safety
    net that must not wait an hour yet must not add a row each scheduler tick."""
    moment = now.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H}:{moment.minute // 10}0"


def _enqueue_ocpi_token_pushes(period: str) -> Any:
    from evdms.ocpi.tasks import ocpi_token_pushes_due

    return ocpi_token_pushes_due.enqueue()


def _enqueue_ocpi_cdrs_match(period: str) -> Any:
    from evdms.ocpi.tasks import ocpi_cdrs_match

    return ocpi_cdrs_match.enqueue()


JOBS = [
    Job("make_statements", previous_month, _enqueue_statements),
    Job("purge_protocol_issues", today, _enqueue_protocol_issues_purge),
    Job("mark_overdue_invoices", today, _enqueue_overdue_invoices),
    Job("connection_alert_digests", today, _enqueue_connection_alert_digests),
    Job("ocpi_token_pushes", every_ten_minutes, _enqueue_ocpi_token_pushes),
    # The sweep: CDRs stored whose matching task was lost (a crash between the two).
    Job("ocpi_cdrs_match", every_ten_minutes, _enqueue_ocpi_cdrs_match),
]


def scheduler_tick(now: datetime | None = None) -> list[ScheduledRun]:
    """Claim and enqueue every job whose due period is not claimed yet; the runs this
    process claimed (none when another scheduler was first)."""
    now = now or timezone.now()
    claimed = []
    for job in JOBS:
        period = job.due_period(now)
        if ScheduledRun.objects.filter(job=job.name, period=period).exists():
            continue  # the common case, without an insert that fails
        try:
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, period=period, claimed_at=now)
                result = job.enqueue(period)
                run.task_id = str(getattr(result, "id", ""))[:64]
                run.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # another scheduler claimed this period first
        claimed.append(run)
    return claimed
