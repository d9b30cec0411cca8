"""The Home Charger Installation Report: one row per installation job of the
organisations the actor acts for, shared by the page, the exports, the API and the
dashboard.

Who sees what: only ``jobs_for_organisation`` (the jobs of the actor's organisation's
connections and of those that granted it rights), whoever installs them.

A page costs the same number of queries whatever the data: the count, the page's job
ids (from the jobs table and its (organisation, status, created) index alone), then
only those jobs with their joins and their latest quote and declaration.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext

from evdms.accounts.permissions import Actor, Permission
from evdms.connections.access import connections_for
from evdms.connections.models import Connection
from evdms.connections.selectors import customer_id_filter
from evdms.installations.access import jobs_for_organisation
from evdms.installations.models import (
    OPEN_STATUSES,
    DocumentKind,
    InstallationJob,
    InstallerCompany,
    JobDocument,
    JobStatus,
    Quote,
    QuoteStatus,
    status_rank,
)
from evdms.installations.report_row import (
    FIELDS,
    INSTALLATION_COLUMNS,
    STEPS,
    InstallationRow,
)

PAGE_SIZE = 50
OVERDUE_DAYS = 14  # the default threshold of "overdue": days in one open status
MAX_OVERDUE_DAYS = 3650
# The report's rows: ``values_list`` tuples of ``FIELDS``.
ReportRows = QuerySet[InstallationJob, tuple[Any, ...]]

# Column key → (heading, ORM ordering) of the page's columns.
COLUMNS: dict[str, tuple[str, str | None]] = {
    column.key: (column.heading, column.sort) for column in INSTALLATION_COLUMNS if column.on_page
}
DEFAULT_SORT = "-created"
NULLABLE_SORTS = {"installer", "quote_total", "warranty_until"}


@dataclass
class InstallationQuery:
    """The report's filters and order, parsed from a query string. Bad values are
    dropped with a message saying so (the page); the API answers 422 naming them."""

    status: str = ""
    installer: int | None = None
    connection: int | None = None
    customer_id: str = ""
    start: date | None = None  # created on or after (local day)
    end: date | None = None  # created on or before (local day)
    overdue: bool = False
    overdue_days: int = OVERDUE_DAYS
    sort: str = DEFAULT_SORT
    errors: dict[str, str] = field(default_factory=dict)  # field → what was wrong

    def as_params(self) -> dict[str, str]:
        params = {
            "status": self.status,
            "installer": str(self.installer or ""),
            "connection": str(self.connection or ""),
            "customer_id": self.customer_id,
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "overdue": "1" if self.overdue else "",
            "overdue_days": str(self.overdue_days)
            if self.overdue and self.overdue_days != OVERDUE_DAYS
            else "",
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
        }
        return {k: v for k, v in params.items() if v}


def _connections(actor: Actor) -> QuerySet[Connection]:
    # Explicitly this report's permission: the worker's exports call these too.
    return connections_for(actor, Permission.VIEW_INSTALLATIONS)


def _jobs_in_view(actor: Actor) -> QuerySet[InstallationJob]:
    return jobs_for_organisation(actor, Permission.VIEW_INSTALLATIONS)


def _id(params: Mapping[str, str], name: str, message: str, errors: dict[str, str]) -> int | None:
    raw = str(params.get(name, "") or "").strip()
    if not raw:
        return None
    if raw.isdigit() and len(raw) < 19:
        return int(raw)
    errors[name] = message
    return None


def _day(params: Mapping[str, str], name: str, message: str, errors: dict[str, str]) -> date | None:
    value = str(params.get(name, "") or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = message % {"value": value[:20]}
        return None


def parse_installation_query(params: Mapping[str, Any]) -> InstallationQuery:
    errors: dict[str, str] = {}
    status = str(params.get("status", "") or "").strip()
    if status and status not in JobStatus.values:
        errors["status"] = gettext("Unknown status “%(status)s”: showing every status.") % {
            "status": status[:30]
        }
        status = ""
    installer = _id(
        params, "installer", gettext("Unknown installer: showing every installer."), errors
    )
    connection = _id(
        params, "connection", gettext("Unknown connection: showing every connection."), errors
    )
    start = _day(
        params,
        "start",
        gettext("The from date “%(value)s” is not a date (YYYY-MM-DD): ignored."),
        errors,
    )
    end = _day(
        params,
        "end",
        gettext("The to date “%(value)s” is not a date (YYYY-MM-DD): ignored."),
        errors,
    )
    if start and end and end < start:
        errors["end"] = gettext("The period ends before it starts: the dates were swapped.")
        start, end = end, start
    overdue_raw = str(params.get("overdue", "") or "").strip().lower()
    if overdue_raw not in ("", "0", "1", "true", "false", "on", "yes", "no"):
        errors["overdue"] = gettext("Overdue is yes (1) or no (0): showing every job.")
        overdue_raw = ""
    days = OVERDUE_DAYS
    raw_days = str(params.get("overdue_days", "") or "").strip()
    if raw_days:
        if raw_days.isdigit() and 1 <= int(raw_days[:5]) <= MAX_OVERDUE_DAYS and len(raw_days) < 6:
            days = int(raw_days)
        else:
            errors["overdue_days"] = gettext(
                "The overdue threshold is a whole number of days from 1 to %(limit)s: "
                "%(days)s days used."
            ) % {"limit": MAX_OVERDUE_DAYS, "days": OVERDUE_DAYS}
    sort = str(params.get("sort", "") or "").strip() or DEFAULT_SORT
    if sort.lstrip("-") not in COLUMNS or COLUMNS[sort.lstrip("-")][1] is None:
        errors["sort"] = gettext("Cannot sort by “%(sort)s”; sorted by creation, newest first.") % {
            "sort": sort[:30]
        }
        sort = DEFAULT_SORT
    return InstallationQuery(
        status=status,
        installer=installer,
        connection=connection,
        customer_id=str(params.get("customer_id", "") or "").strip()[:100],
        start=start,
        end=end,
        overdue=overdue_raw in ("1", "true", "on", "yes"),
        overdue_days=days,
        sort=sort,
        errors=errors,
    )


def installers_in_view(actor: Actor) -> list[tuple[int, str]]:
    """The installer companies that have jobs of the actor's organisations (the filter's
    choices): (id, name)."""
    # One EXISTS per company through the (organisation, installer) index: there are few
    # companies and many jobs.
    jobs = _jobs_in_view(actor).filter(installer_id=OuterRef("pk"))
    return list(
        InstallerCompany.objects.filter(Exists(jobs))
        .order_by("organisation__name")
        .values_list("pk", "organisation__name")
    )


def customer_ids_in_view(actor: Actor) -> list[str]:
    return list(
        _connections(actor)
        .exclude(customer_id="")
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()
    )


def check_in_view(actor: Actor, query: InstallationQuery) -> InstallationQuery:
    """Say so when a filter names something the actor has none of. Another
    organisation's connection or installer reads exactly like a missing one."""
    if query.connection and not _connections(actor).filter(pk=query.connection).exists():
        query.errors["connection"] = gettext("Unknown connection: showing every connection.")
        query.connection = None
    if query.installer and query.installer not in dict(installers_in_view(actor)):
        query.errors["installer"] = gettext("Unknown installer: showing every installer.")
        query.installer = None
    known = {c.lower() for c in customer_ids_in_view(actor)} if query.customer_id else set()
    if query.customer_id and query.customer_id.lower() not in known:
        query.errors["customer_id"] = gettext(
            "No connection has the Customer ID “%(customer_id)s”: nothing to show."
        ) % {"customer_id": query.customer_id}
    return query


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _jobs(actor: Actor, query: InstallationQuery) -> QuerySet[InstallationJob]:
    """The jobs the report shows, filtered, with no joins but those the filters need."""
    rows = _jobs_in_view(actor)
    if query.status:
        rows = rows.filter(status=query.status)
    if query.installer:
        rows = rows.filter(installer_id=query.installer)
    if query.connection:
        rows = rows.filter(connection_id=query.connection)
    if query.customer_id:
        ids = _connections(actor).filter(customer_id_filter(query.customer_id)).values("pk")
        rows = rows.filter(connection_id__in=ids)
    if query.start:
        rows = rows.filter(created_at__gte=_local_midnight(query.start))
    if query.end:
        rows = rows.filter(created_at__lt=_local_midnight(query.end + timedelta(days=1)))
    if query.overdue:
        rows = rows.filter(
            status__in=OPEN_STATUSES,
            status_changed_at__lt=timezone.now() - timedelta(days=query.overdue_days),
        )
    return rows


def _ordered(
    rows: QuerySet[InstallationJob], query: InstallationQuery
) -> QuerySet[InstallationJob]:
    key = query.sort.lstrip("-")
    order = COLUMNS[key][1] or "created_at"
    descending = query.sort.startswith("-")
    if order.startswith("-"):  # a column whose value grows as the field shrinks
        order, descending = order[1:], not descending
    if key == "quote_total":
        rows = _with_quote(rows)
    if key == "status":  # in the workflow's order, whatever the language
        rows = rows.annotate(status_rank=status_rank())
        order = "status_rank"
    if key in NULLABLE_SORTS:
        f = F(order)
        ordering = f.desc(nulls_last=True) if descending else f.asc(nulls_last=True)
        return rows.order_by(ordering, "-pk" if descending else "pk")
    return rows.order_by(f"-{order}" if descending else order, "-pk" if descending else "pk")


def _with_quote(rows: QuerySet[InstallationJob]) -> QuerySet[InstallationJob]:
    """The latest quote that was not withdrawn (what the job's money is now)."""
    if "quote_total" in rows.query.annotations:
        return rows
    quote = (
        Quote.objects.filter(job_id=OuterRef("pk"))
        .exclude(status=QuoteStatus.WITHDRAWN)
        .order_by("-number")
    )
    return rows.annotate(
        quote_currency=Subquery(quote.values("currency")[:1]),
        quote_total=Subquery(quote.values("total_incl_vat")[:1]),
        quote_organisation_share=Subquery(quote.values("organisation_share")[:1]),
        quote_driver_share=Subquery(quote.values("driver_share")[:1]),
    )


def _with_declaration(rows: QuerySet[InstallationJob]) -> QuerySet[InstallationJob]:
    declaration = JobDocument.objects.filter(
        job_id=OuterRef("pk"), kind=DocumentKind.DECLARATION
    ).order_by("-uploaded_at", "-pk")
    return rows.annotate(declaration_id=Subquery(declaration.values("pk")[:1]))


def _full(rows: QuerySet[InstallationJob]) -> QuerySet[InstallationJob]:
    return _with_declaration(_with_quote(rows))


def installations_for(actor: Actor, query: InstallationQuery) -> ReportRows:
    """Every row of the report (``values_list`` tuples of ``FIELDS``), filtered and
    ordered: what the exports read."""
    return _full(_ordered(_jobs(actor, query), query)).values_list(*FIELDS)


# The fields the CSV writer reads as the database stores them (SQLite: UTC text), which
# it turns into local days for less than the driver's own conversion.
TIME_FIELDS = frozenset({"created_at", *STEPS, "status_changed_at"})


def with_times_as_text(rows: ReportRows) -> ReportRows:
    text = {name: f"{name}_text" for name in TIME_FIELDS}
    return rows.annotate(
        **{alias: Cast(name, TextField()) for name, alias in text.items()}
    ).values_list(*(text.get(f, f) for f in FIELDS))


def installations_count(actor: Actor, query: InstallationQuery) -> int:
    return _jobs(actor, query).count()


def installations_slice(
    actor: Actor, query: InstallationQuery, offset: int, limit: int
) -> list[tuple[Any, ...]]:
    """One page of rows: the page's jobs are found from the jobs alone, then only those
    are read with their joins and subqueries."""
    ids = list(
        _ordered(_jobs(actor, query), query).values_list("pk", flat=True)[offset : offset + limit]
    )
    if not ids:
        return []
    found = {
        row[0]: row
        for row in _full(InstallationJob.objects.filter(pk__in=ids)).values_list(*FIELDS)
    }
    return [found[pk] for pk in ids]


class InstallationRows:
    """The report as a lazy sequence for Django's Paginator: it counts, then reads the
    one slice it shows."""

    def __init__(self, actor: Actor, query: InstallationQuery) -> None:
        self.actor, self.query = actor, query
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = installations_count(self.actor, self.query)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[tuple[Any, ...]]:
        start = index.start or 0
        return installations_slice(self.actor, self.query, start, (index.stop or start) - start)


def installations_page(rows: Iterable[tuple[Any, ...]]) -> Iterator[InstallationRow]:
    return (InstallationRow.from_values(row) for row in rows)


def installation_row(actor: Actor, job_id: int) -> InstallationRow | None:
    """One job's row (the job page and the API item), or None when not in view."""
    rows = _full(_jobs_in_view(actor).filter(pk=job_id)).values_list(*FIELDS)
    row = next(iter(rows), None)
    return None if row is None else InstallationRow.from_values(row)


# --- the dashboard ---------------------------------------------------------------------


@dataclass
class InstallationFigures:
    by_status: list[tuple[str, str, int]]  # (status, label, jobs), in the statuses' order
    overdue: int  # open jobs more than OVERDUE_DAYS in their status
    overdue_days: int = OVERDUE_DAYS

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.by_status)


def installation_figures(actor: Actor) -> InstallationFigures:
    """Installations by status and the overdue ones: two queries."""
    from django.db.models import Count

    jobs = _jobs_in_view(actor)
    counts = dict(
        jobs.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    overdue = jobs.filter(
        status__in=OPEN_STATUSES,
        status_changed_at__lt=timezone.now() - timedelta(days=OVERDUE_DAYS),
    ).count()
    return InstallationFigures(
        by_status=[(value, str(label), counts.get(value, 0)) for value, label in JobStatus.choices],
        overdue=overdue,
    )
