"""The installer portal's home: the company's open jobs by status, and its SLA — jobs
not contacted within two working days of assignment, and open jobs more than 14 days in
one status. A fixed number of queries whatever the number of jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils import timezone

from evdms.installations.models import OPEN_STATUSES, InstallerCompany, JobStatus

CONTACT_WORKING_DAYS = 2
STUCK_DAYS = 14


def working_days_before(moment: datetime, days: int) -> datetime:
    """The moment ``days`` working days (Monday to Friday) before ``moment``: a job
    assigned before it has had ``days`` full working days."""
    result = moment
    left = days
    while left:
        result -= timedelta(days=1)
        if result.weekday() < 5:
            left -= 1
    return result


@dataclass
class PortalFigures:
    open_by_status: list[tuple[str, str, int]]  # (status, label, jobs), open ones in order
    not_contacted: int  # assigned, not contacted within CONTACT_WORKING_DAYS working days
    stuck_by_status: list[tuple[str, str, int]]  # open and over STUCK_DAYS in one status
    contact_working_days: int = CONTACT_WORKING_DAYS
    stuck_days: int = STUCK_DAYS

    @property
    def open_total(self) -> int:
        return sum(n for _, _, n in self.open_by_status)

    @property
    def stuck_total(self) -> int:
        return sum(n for _, _, n in self.stuck_by_status)


def portal_figures(company: InstallerCompany | None) -> PortalFigures:
    """Three queries; an organisation that is not an installer company has no jobs."""
    labels = dict(JobStatus.choices)
    if company is None:
        return PortalFigures(
            open_by_status=[(s, str(labels[s]), 0) for s in OPEN_STATUSES],
            not_contacted=0,
            stuck_by_status=[],
        )
    now = timezone.now()
    jobs = company.jobs.order_by()
    open_counts = dict(
        jobs.filter(status__in=OPEN_STATUSES)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    not_contacted = jobs.filter(
        status=JobStatus.ASSIGNED,
        contacted_at=None,
        assigned_at__lt=working_days_before(now, CONTACT_WORKING_DAYS),
    ).count()
    stuck = dict(
        jobs.filter(
            status__in=OPEN_STATUSES, status_changed_at__lt=now - timedelta(days=STUCK_DAYS)
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return PortalFigures(
        open_by_status=[(s, str(labels[s]), open_counts.get(s, 0)) for s in OPEN_STATUSES],
        not_contacted=not_contacted,
        stuck_by_status=[(s, str(labels[s]), stuck[s]) for s in OPEN_STATUSES if stuck.get(s)],
    )
