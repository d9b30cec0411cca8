"""The admin side of drivers over the API: connection requests and drivers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError

from evdms.accounts.permissions import Actor, Permission
from evdms.api import requires
from evdms.enrolment import services
from evdms.enrolment.access import get_membership_for
from evdms.enrolment.models import Membership
from evdms.enrolment.schemas import DenyIn, MembershipOut, MembershipPage
from evdms.enrolment.selectors import drivers_for, parse_driver_query, pending_requests_for

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
    if offset < 0 or not 1 <= limit <= 500:
        raise ValidationError({"limit": ["Use offset ≥ 0 and a limit from 1 to 500."]})
    return {"count": rows.count(), "items": [_out(m) for m in rows[offset : offset + limit]]}


def _decided(exc: services.AlreadyDecided) -> HttpError:
    return HttpError(409, "This request was already decided (or is no longer in that state).")


@router.get(
    "/connection-requests", response=MembershipPage, auth=requires(Permission.MANAGE_DRIVERS)
)
def requests_list(request: HttpRequest, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """Pending connection requests, oldest first."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return _page(pending_requests_for(actor), offset, limit)


@router.post(
    "/connection-requests/{membership_id}/approve",
    response=MembershipOut,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def requests_approve(request: HttpRequest, membership_id: int) -> dict[str, Any]:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    membership = get_membership_for(actor, membership_id)
    try:
        return _out(services.membership_approve(actor=actor, membership=membership))
    except services.AlreadyDecided as exc:
        raise _decided(exc) from exc


@router.post(
    "/connection-requests/{membership_id}/deny",
    response=MembershipOut,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def requests_deny(request: HttpRequest, membership_id: int, payload: DenyIn) -> dict[str, Any]:
    """Deny with an optional message, which the driver receives by e-mail."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    membership = get_membership_for(actor, membership_id)
    try:
        return _out(
            services.membership_deny(actor=actor, membership=membership, message=payload.message)
        )
    except services.AlreadyDecided as exc:
        raise _decided(exc) from exc


@router.get("/drivers", response=MembershipPage, auth=requires(Permission.MANAGE_DRIVERS))
def drivers_list(
    request: HttpRequest,
    status: str = "",
    connection: str = "",
    q: str = "",
    sort: str = "-requested",
    offset: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    """Drivers of the organisations this key acts for (one row per connection they had)."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    query = parse_driver_query({"status": status, "connection": connection, "q": q, "sort": sort})
    if query.errors:
        raise ValidationError({"query": query.errors})
    return _page(drivers_for(actor, query), offset, limit)


@router.post(
    "/drivers/{membership_id}/remove",
    response=MembershipOut,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def drivers_remove(request: HttpRequest, membership_id: int) -> dict[str, Any]:
    """End a connected driver's benefits now; the driver is told by e-mail."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    membership = get_membership_for(actor, membership_id)
    try:
        return _out(services.membership_remove(actor=actor, membership=membership))
    except services.AlreadyDecided as exc:
        raise _decided(exc) from exc
