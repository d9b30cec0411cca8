"""Reads about drivers shared by pages, API and exports (fixed query counts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor, Permission
from evdms.audit.models import AuditEvent
from evdms.connections.access import connections_for
from evdms.connections.models import Connection
from evdms.connections.selectors import CUSTOMER_ID_MATCHES, customer_id_filter
from evdms.enrolment.access import memberships_for
from evdms.enrolment.models import (
    LIVE_STATUSES,
    Invitation,
    InvitationBatch,
    InvitationStatus,
    Membership,
    MembershipStatus,
)
from evdms.installations.models import OPEN_STATUSES, InstallationJob, JobStatus

# A home charger counts as installed from the installer's "installed" on (a job
# cancelled afterwards has none); before that an open job is "in progress".
CHARGER_INSTALLED = (JobStatus.INSTALLED, JobStatus.COMMISSIONED, JobStatus.COMPLETED)

DRIVER_SORTS = {
    "name": "driver__full_name",
    "email": "driver__email",
    "connection": "connection__name",
    "status": "status",
    "connected": "connected_at",
    "requested": "requested_at",
    "verification_1": "verification_1",
    "verification_2": "verification_2",
}


@dataclass
class DriverQuery:
    search: str
    status: str
    connection: int | None
    sort: str
    errors: list[str]
    customer_id: str = ""
    customer_id_match: str = "is"  # a key of CUSTOMER_ID_MATCHES


def _customer_id_params(params: Mapping[str, str], errors: list[str]) -> tuple[str, str]:
    match = params.get("customer_id_match", "") or "is"
    if match not in CUSTOMER_ID_MATCHES:
        errors.append(
            _("Unknown Customer ID match “%(match)s”: matching the whole ID.")
            % {"match": match[:20]}
        )
        match = "is"
    return params.get("customer_id", "").strip()[:100], match


def parse_driver_query(params: Mapping[str, str]) -> DriverQuery:
    errors = []
    status = params.get("status", "")
    if status and status not in MembershipStatus.values:
        errors.append(_("Unknown status “%(status)s”: showing every status.") % {"status": status})
        status = ""
    connection: int | None = None
    if params.get("connection"):
        try:
            connection = int(params["connection"])
        except ValueError:
            errors.append(_("Unknown connection: showing every connection."))
    sort = params.get("sort", "-requested")
    if sort.lstrip("-") not in DRIVER_SORTS:
        errors.append(_("Cannot sort by “%(sort)s”; sorted by request date.") % {"sort": sort})
        sort = "-requested"
    customer_id, match = _customer_id_params(params, errors)
    return DriverQuery(
        params.get("q", "").strip()[:100],
        status,
        connection,
        sort,
        errors,
        customer_id=customer_id,
        customer_id_match=match,
    )


def parse_request_query(params: Mapping[str, str]) -> DriverQuery:
    """The Connection Requests page's filter: its Customer ID only."""
    errors: list[str] = []
    customer_id, match = _customer_id_params(params, errors)
    return DriverQuery(
        "", "", None, "requested", errors, customer_id=customer_id, customer_id_match=match
    )


def _by_customer_id(
    actor: Actor, rows: QuerySet[Membership], query: DriverQuery
) -> QuerySet[Membership]:
    """Memberships of the connections in view whose Customer ID matches: the ids first
    (a short query on connections), then a plain IN list, so the driver table keeps
    using its (organisation, requested_at) and (connection, status) indexes."""
    if not query.customer_id:
        return rows
    ids = list(
        connections_for(actor)
        .filter(customer_id_filter(query.customer_id, query.customer_id_match))
        .values_list("pk", flat=True)
    )
    return rows.filter(connection_id__in=ids)


def with_home_charger(rows: QuerySet[Membership]) -> QuerySet[Membership]:
    """Each row with ``home_job``: its driver's installation job for its connection, as
    ``"<status>|<installed_at>"`` (``installed_at`` empty before installation), or None
    without one. One correlated subquery on the job's unique (driver, connection)
    index, so a page reads one index entry per row whatever the number of drivers. By
    driver and connection, not by membership: a driver who left and came back keeps the
    job of the connection."""
    job = InstallationJob.objects.filter(
        driver_id=OuterRef("driver_id"), connection_id=OuterRef("connection_id")
    ).annotate(
        summary=Concat(
            "status",
            Value("|"),
            Coalesce(Cast("installed_at", CharField()), Value("")),
            output_field=CharField(),
        )
    )
    return rows.annotate(home_job=Subquery(job.values("summary")[:1]))


@dataclass(frozen=True)
class HomeCharger:
    """What the Drivers page says of a driver's home charger."""

    installed: bool = False
    installed_at: datetime | None = None
    in_progress: bool = False

    def __str__(self) -> str:
        if self.installed_at is not None:
            return _("Installed %(date)s") % {
                "date": date_format(timezone.localtime(self.installed_at), "DATE_FORMAT")
            }
        if self.installed:
            return _("Installed")
        return _("Job in progress") if self.in_progress else "—"

    def for_export(self) -> str:
        if self.installed_at is not None:
            return timezone.localtime(self.installed_at).date().isoformat()
        return "Installed" if self.installed else "In progress" if self.in_progress else ""


def home_charger(summary: str | None) -> HomeCharger:
    """Read ``home_job`` (``with_home_charger``): the database gives the time as text,
    SQLite as stored ("2026-03-12 10:00:00", UTC), PostgreSQL with its offset."""
    if not summary:
        return HomeCharger()
    status, _bar, installed = summary.partition("|")
    if status in CHARGER_INSTALLED:
        moment = datetime.fromisoformat(installed) if installed else None
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return HomeCharger(installed=True, installed_at=moment)
    return HomeCharger(in_progress=status in OPEN_STATUSES)


def drivers_for(actor: Actor, query: DriverQuery) -> QuerySet[Membership]:
    rows = memberships_for(actor).select_related(
        "driver", "connection", "organisation", "moved_to__connection"
    )
    if query.status:
        rows = rows.filter(status=query.status)
    if query.connection:
        rows = rows.filter(connection_id=query.connection)
    rows = _by_customer_id(actor, rows, query)
    if query.search:
        q = query.search
        rows = rows.filter(
            Q(driver__full_name__icontains=q)
            | Q(driver__email__icontains=q)
            | Q(verification_1__icontains=q)
            | Q(verification_2__icontains=q)
        )
    field = DRIVER_SORTS[query.sort.lstrip("-")]
    return rows.order_by(f"-{field}" if query.sort.startswith("-") else field, "-pk")


def pending_requests_for(actor: Actor, query: DriverQuery | None = None) -> QuerySet[Membership]:
    rows = (
        memberships_for(actor)
        .filter(status=MembershipStatus.PENDING)
        .select_related("driver", "connection")
        .order_by("requested_at", "pk")
    )
    return _by_customer_id(actor, rows, query) if query is not None else rows


def pending_count_for(actor: Actor) -> int:
    """What the navigation shows on every page: the requests the actor may decide."""
    return (
        memberships_for(actor, Permission.MANAGE_DRIVERS)
        .filter(status=MembershipStatus.PENDING)
        .count()
    )


def driver_history(actor: Actor, driver: User) -> QuerySet[AuditEvent]:
    """Every recorded change to this driver's memberships that the actor may see."""
    ids = [
        str(pk) for pk in memberships_for(actor).filter(driver=driver).values_list("pk", flat=True)
    ]
    return AuditEvent.objects.filter(
        target_type="enrolment.membership", target_id__in=ids
    ).order_by("-at", "-id")


def other_place_in_organisation(driver: User, connection: Connection) -> Membership | None:
    """The driver's own pending request or connection with another connection of the
    same organisation: while it lasts they cannot join this one (one per organisation).
    Only ever the driver's own rows."""
    return (
        Membership.objects.filter(
            driver=driver,
            organisation_id=connection.organisation_id,
            status__in=LIVE_STATUSES,
        )
        .exclude(connection_id=connection.pk)
        .select_related("connection", "organisation")
        .first()
    )


def one_per_organisation_message(connection: Connection, existing: Membership) -> str:
    """Why the driver cannot join ``connection`` while ``existing`` lasts, naming it."""
    if existing.status == MembershipStatus.PENDING:
        message = _(
            "You already have a connection with %(organisation)s (“%(connection)s”, "
            "pending). A driver can hold one connection per organisation at a time: "
            "withdraw that request or leave that connection first."
        )
    else:
        message = _(
            "You already have a connection with %(organisation)s (“%(connection)s”, "
            "connected). A driver can hold one connection per organisation at a time: "
            "withdraw that request or leave that connection first."
        )
    return message % {
        "organisation": connection.organisation.name,
        "connection": existing.connection.name_for_drivers,
    }


def own_memberships(driver: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(driver=driver)
        .select_related("connection", "organisation", "moved_to__connection")
        .order_by("-requested_at")
    )


# --- invitations --------------------------------------------------------------------


def invitation_counts(batch: InvitationBatch) -> dict[str, int]:
    """How far a batch's invitations got, per status value, every status present (one
    query). Tracking only moves forward, so each step counts every invitation that
    reached it: one that led to a connected driver was sent, opened and requested too.
    Queued counts those still waiting to be sent."""
    found = dict(batch.invitations.values_list("status").annotate(n=Count("pk")))
    order = list(InvitationStatus.values)  # queued → sent → opened → requested → connected
    counts = {
        value: sum(found.get(later, 0) for later in order[i:]) for i, value in enumerate(order)
    }
    counts[InvitationStatus.QUEUED] = found.get(InvitationStatus.QUEUED, 0)
    return counts


def invitations_of(connection: Connection, status: str = "") -> QuerySet[Invitation]:
    """A connection's invitations, newest first, optionally of one status (already
    checked against ``InvitationStatus``)."""
    rows = Invitation.objects.filter(connection=connection).order_by("-pk")
    return rows.filter(status=status) if status else rows
