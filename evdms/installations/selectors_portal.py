"""Reads for the installer portal and the driver's installation page: the company's jobs
as a filtered, sorted list, and what one job's page shows."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Replace, Upper
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from evdms.accounts.permissions import Actor
from evdms.installations.access import jobs_for_installer
from evdms.installations.models import (
    InstallationJob,
    JobDocument,
    JobStatus,
    Quote,
    status_rank,
)

# Sort key → the field, newest / latest first with a leading "-"; the status in the
# workflow's order (models.status_rank), not by its code or label.
JOB_SORTS = {
    "created": "created_at",
    "status": "status_rank",
    "appointment": "appointment_at",
}


@dataclass
class JobQuery:
    status: str = ""
    search: str = ""
    sort: str = "-created"
    errors: list[str] = field(default_factory=list)


def parse_job_query(params: Mapping[str, str]) -> JobQuery:
    """The list's filters from a query string; a value that is not allowed is dropped
    with a message saying so (the list still shows)."""
    query = JobQuery(search=str(params.get("q", "")).strip()[:100])
    status = str(params.get("status", ""))
    if status and status not in JobStatus.values:
        query.errors.append(
            _("Unknown status “%(status)s”: showing every status.") % {"status": status[:30]}
        )
    else:
        query.status = status
    sort = str(params.get("sort", "") or "-created")
    if sort.lstrip("-") not in JOB_SORTS:
        query.errors.append(
            _("Cannot sort by “%(sort)s”; sorted by date created.") % {"sort": sort[:30]}
        )
    else:
        query.sort = sort
    return query


def company_jobs(actor: Actor) -> QuerySet[InstallationJob]:
    """The actor's installer company's jobs; none for an installer admin whose
    organisation is not (or no longer) an installer company."""
    try:
        return jobs_for_installer(actor)
    except Http404:
        return InstallationJob.objects.none()


def installer_jobs(actor: Actor, query: JobQuery) -> QuerySet[InstallationJob]:
    """The actor's company's jobs matching ``query``: search by the driver's name or the
    postcode (whatever its spaces and case)."""
    rows = company_jobs(actor).select_related("driver", "connection", "organisation")
    if query.status:
        rows = rows.filter(status=query.status)
    if query.search:
        text = query.search
        compact = text.replace(" ", "").upper()
        rows = rows.annotate(
            compact_postcode=Replace(Upper("postcode"), Value(" "), Value(""))
        ).filter(Q(driver__full_name__icontains=text) | Q(compact_postcode__contains=compact))
    name = JOB_SORTS[query.sort.lstrip("-")]
    if name == "status_rank":
        rows = rows.annotate(status_rank=status_rank())
    if query.sort.startswith("-"):
        return rows.order_by(f"-{name}", "-pk")
    return rows.order_by(name, "pk")


def days_in_status(job: InstallationJob, now: datetime.datetime | None = None) -> int:
    return max(0, ((now or timezone.now()) - job.status_changed_at).days)


def job_documents(job: InstallationJob) -> QuerySet[JobDocument]:
    """The job's documents without their content (served by their own view)."""
    return job.documents.defer("content").select_related("uploaded_by")


def job_quotes(job: InstallationJob) -> QuerySet[Quote]:
    return job.quotes.prefetch_related("lines").order_by("-number")
