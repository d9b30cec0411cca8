"""The admin side of drivers over the API: connection requests, drivers, invitations."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from ninja import Router, Status
from ninja.errors import HttpError

from evdms.accounts.permissions import Actor, Permission
from evdms.connections.access import get_connection_for
from evdms.enrolment import services
from evdms.enrolment.access import get_invitation_batch_for, get_membership_for
from evdms.enrolment.models import InvitationBatch, InvitationStatus, Membership
from evdms.enrolment.schemas import (
    DenyIn,
    InvitationBatchOut,
    InvitationPage,
    InvitationsIn,
    MembershipOut,
    MembershipPage,
)
from evdms.enrolment.selectors import (
    drivers_for,
    invitation_counts,
    invitations_of,
    parse_driver_query,
    pending_requests_for,
)
from evdms.enrolment.services.invitations import invitation_batch_create
from evdms.ui.api import ErrorOut, check_page, page_of, requires
from evdms.ui.http import ApiRequest

router = Router(tags=["drivers"])


def _out(m: Membership) -> dict[str, Any]:
    return {
        "id": m.pk,
        "driver": {"id": m.driver_id, "email": m.driver.email, "full_name": m.driver.full_name},
        "connection_id": m.connection_id,
        "connection_name": m.connection.name,
        "status": m.status,
        "verification_1": m.verification_1,
        "verification_2": m.verification_2,
        "requested_at": m.requested_at,
        "connected_at": m.connected_at,
        "ended_at": m.ended_at,
        "denial_message": m.denial_message,
        "home_charger_requested": m.connection.provide_home_charger,
        "currency": m.connection.currency,
    }


def _page(rows: Any, offset: int, limit: int) -> dict[str, Any]:
    check_page(offset, limit, 500)
    return page_of(rows, offset, limit, _out)


# The answers of a decision: the membership, or 409 when it was already decided.
DECISION = {200: MembershipOut, 409: ErrorOut}


def _decided(exc: services.AlreadyDecided) -> HttpError:
    return HttpError(409, "This request was already decided (or is no longer in that state).")


@router.get(
    "/connection-requests", response=MembershipPage, auth=requires(Permission.MANAGE_DRIVERS)
)
def requests_list(request: ApiRequest, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """Pending connection requests, oldest first."""
    actor: Actor = request.auth
    return _page(pending_requests_for(actor), offset, limit)


@router.post(
    "/connection-requests/{membership_id}/approve",
    response=DECISION,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def requests_approve(request: ApiRequest, membership_id: int) -> dict[str, Any]:
    actor: Actor = request.auth
    membership = get_membership_for(actor, membership_id)
    try:
        return _out(services.membership_approve(actor=actor, membership=membership))
    except services.AlreadyDecided as exc:
        raise _decided(exc) from exc


@router.post(
    "/connection-requests/{membership_id}/deny",
    response=DECISION,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def requests_deny(request: ApiRequest, membership_id: int, payload: DenyIn) -> dict[str, Any]:
    """Deny with an optional message, which the driver receives by e-mail."""
    actor: Actor = request.auth
    membership = get_membership_for(actor, membership_id)
    try:
        return _out(
            services.membership_deny(actor=actor, membership=membership, message=payload.message)
        )
    except services.AlreadyDecided as exc:
        raise _decided(exc) from exc


@router.get("/drivers", response=MembershipPage, auth=requires(Permission.MANAGE_DRIVERS))
def drivers_list(
    request: ApiRequest,
    status: str = "",
    connection: str = "",
    q: str = "",
    sort: str = "-requested",
    customer_id: str = "",
    customer_id_match: str = "is",
    offset: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    """Drivers of the organisations this key acts for (one row per connection they had).
    ``customer_id`` matches their connection's Customer ID ignoring case, whole
    (``customer_id_match=is``) or in part (``contains``)."""
    actor: Actor = request.auth
    query = parse_driver_query(
        {
            "status": status,
            "connection": connection,
            "q": q,
            "sort": sort,
            "customer_id": customer_id,
            "customer_id_match": customer_id_match,
        }
    )
    if query.errors:
        raise ValidationError({"query": query.errors})
    return _page(drivers_for(actor, query), offset, limit)


@router.post(
    "/drivers/{membership_id}/remove",
    response=DECISION,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def drivers_remove(request: ApiRequest, membership_id: int) -> dict[str, Any]:
    """End a connected driver's benefits now; the driver is told by e-mail."""
    actor: Actor = request.auth
    membership = get_membership_for(actor, membership_id)
    try:
        return _out(services.membership_remove(actor=actor, membership=membership))
    except services.AlreadyDecided as exc:
        raise _decided(exc) from exc


# --- invitations --------------------------------------------------------------------


def _batch_out(batch: InvitationBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "connection_id": batch.connection_id,
        "total": batch.total,
        "sent": batch.sent,
        "finished": batch.finished_at is not None,
        "rejected": batch.rejected,
        "counts": invitation_counts(batch),
    }


@router.post(
    "/connections/{connection_id}/invitations",
    response={202: InvitationBatchOut},
    auth=requires(Permission.MANAGE_DRIVERS),
)
def invitations_create(
    request: ApiRequest, connection_id: int, payload: InvitationsIn
) -> Status[dict[str, Any]]:
    """Invite addresses; invalid and duplicate ones are reported per item (``line`` is the
    1-based position in ``emails``) and the rest are sent by the worker."""
    actor: Actor = request.auth
    connection = get_connection_for(actor, connection_id)
    batch = invitation_batch_create(actor=actor, connection=connection, emails=payload.emails)
    return Status(202, _batch_out(batch))


@router.get(
    "/connections/{connection_id}/invitations/{batch_id}",
    response=InvitationBatchOut,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def invitations_read(request: ApiRequest, connection_id: int, batch_id: int) -> dict[str, Any]:
    """Progress of a batch of invitations and how many were opened, requested, connected."""
    actor: Actor = request.auth
    return _batch_out(get_invitation_batch_for(actor, connection_id, batch_id))


@router.get(
    "/connections/{connection_id}/invitations",
    response=InvitationPage,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def invitations_list(
    request: ApiRequest, connection_id: int, status: str = "", offset: int = 0, limit: int = 50
) -> dict[str, Any]:
    """A connection's invitations, newest first; ``status`` one of queued, sent, opened,
    requested, connected."""
    actor: Actor = request.auth
    connection = get_connection_for(actor, connection_id)
    if status and status not in InvitationStatus.values:
        raise ValidationError(
            {"status": [f"Use one of: {', '.join(InvitationStatus.values)} (or leave it out)."]}
        )
    check_page(offset, limit, 500)
    return page_of(invitations_of(connection, status), offset, limit)
