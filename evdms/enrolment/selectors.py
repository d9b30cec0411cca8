"""Reads about drivers shared by pages, API and exports (fixed query counts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor, Permission
from evdms.audit.models import AuditEvent
from evdms.connections.models import Connection
from evdms.enrolment.access import memberships_for
from evdms.enrolment.models import (
    LIVE_STATUSES,
    Invitation,
    InvitationBatch,
    InvitationStatus,
    Membership,
    MembershipStatus,
)

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


def parse_driver_query(params: Mapping[str, str]) -> DriverQuery:
    errors = []
    status = params.get("status", "")
    if status and status not in MembershipStatus.values:
        errors.append(f"Unknown status “{status}”: showing every status.")
        status = ""
    connection: int | None = None
    if params.get("connection"):
        try:
            connection = int(params["connection"])
        except ValueError:
            errors.append("Unknown connection: showing every connection.")
    sort = params.get("sort", "-requested")
    if sort.lstrip("-") not in DRIVER_SORTS:
        errors.append(f"Cannot sort by “{sort}”; sorted by request date.")
        sort = "-requested"
    return DriverQuery(params.get("q", "").strip()[:100], status, connection, sort, errors)


def drivers_for(actor: Actor, query: DriverQuery) -> QuerySet[Membership]:
    rows = memberships_for(actor).select_related(
        "driver", "connection", "organisation", "moved_to__connection"
    )
    if query.status:
        rows = rows.filter(status=query.status)
    if query.connection:
        rows = rows.filter(connection_id=query.connection)
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


def pending_requests_for(actor: Actor) -> QuerySet[Membership]:
    return (
        memberships_for(actor)
        .filter(status=MembershipStatus.PENDING)
        .select_related("driver", "connection")
        .order_by("requested_at", "pk")
    )


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
    return (
        f"You already have a connection with {connection.organisation.name} "
        f"(“{existing.connection.name_for_drivers}”, {existing.get_status_display().lower()}). "
        "A driver can hold one connection per organisation at a time: withdraw that request "
        "or leave that connection first."
    )


def own_memberships(driver: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(driver=driver)
        .select_related("connection", "organisation", "moved_to__connection")
        .order_by("-requested_at")
    )


# --- invitations --------------------------------------------------------------------


def invitation_counts(batch: InvitationBatch) -> dict[str, int]:
    """Invitations of a batch per status value, every status present (one query)."""
    found = dict(batch.invitations.values_list("status").annotate(n=Count("pk")))
    return {value: found.get(value, 0) for value in InvitationStatus.values}


def invitations_of(connection: Connection, status: str = "") -> QuerySet[Invitation]:
    """A connection's invitations, newest first, optionally of one status (already
    checked against ``InvitationStatus``)."""
    rows = Invitation.objects.filter(connection=connection).order_by("-pk")
    return rows.filter(status=status) if status else rows
