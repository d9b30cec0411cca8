"""Chargers and home charging sessions over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Router, Status

from evdms.accounts.permissions import Actor, Permission
from evdms.charging import services
from evdms.charging.access import chargers_for, get_charger_for, get_session_for
from evdms.charging.bounds import OutOfWindow, check_time
from evdms.charging.models import Charger, ChargingSession, SessionKind, SessionReview
from evdms.charging.schemas import (
    ChargerCreated,
    ChargerIn,
    ChargerOut,
    SessionPage,
    SessionReviewIn,
    SessionReviewOut,
)
from evdms.charging.selectors import SessionFilter, sessions_of_kind_visible_to
from evdms.enrolment.access import find_driver_for
from evdms.public_charging.selectors_sessions import organisation_sees_details
from evdms.ui.api import check_page, page_of, requires
from evdms.ui.http import ApiRequest

router = Router(tags=["home charging"])  # and the public sessions list


def charger_out(charger: Charger) -> dict[str, Any]:
    return {
        **{
            f: getattr(charger, f)
            for f in (
                "id",
                "identity",
                "serial",
                "vendor",
                "model",
                "firmware",
                "protocol",
                "online",
                "last_heartbeat_at",
                "connector_status",
            )
        },
        "driver_email": charger.driver.email if charger.driver else None,
    }


def session_out(s: ChargingSession) -> dict[str, Any]:
    duration = s.duration
    # A personal public session is the driver's to pay: the organisation sees that it
    # happened, not where, with whom or at what price (evdms/public_charging/selectors_sessions.py).
    details = organisation_sees_details(s)
    public = s.kind == SessionKind.PUBLIC
    return {
        "id": s.pk,
        "charger": s.charger.identity if s.charger else None,
        "driver_email": s.driver.email if s.driver else None,
        "connection_id": s.connection_id,
        "transaction_id": s.transaction_id,
        "started_at": s.started_at,
        "ended_at": s.ended_at,
        "duration_seconds": int(duration.total_seconds()) if duration else None,
        "energy_wh": s.energy_wh,
        "status": s.status,
        "flags": s.flags,
        "review": s.review,
        "kind": s.kind,
        "location_name": s.location_name if public and details else None,
        "location_address": s.location_address if public and details else None,
        "operator": s.operator if public and details else None,
        "cost_excl_vat": s.cost_excl_vat if details else None,
        "cost_incl_vat": s.cost_incl_vat if details else None,
        "currency": s.currency if public and details else None,
        "purpose": s.purpose or None,
    }


@router.get("/chargers", response=list[ChargerOut], auth=requires(Permission.VIEW_INSTALLATIONS))
def chargers_list(request: ApiRequest) -> list[dict[str, Any]]:
    actor: Actor = request.auth
    return [charger_out(c) for c in chargers_for(actor).select_related("driver")]


@router.post("/chargers", response={201: ChargerCreated}, auth=requires(Permission.MANAGE_DRIVERS))
def chargers_register(request: ApiRequest, payload: ChargerIn) -> Status[dict[str, Any]]:
    """Register a charger. With a ``driver_email`` of a driver of the key's organisation,
    or of one that granted it rights, the charger belongs to that driver's organisation.
    The password is returned only here."""
    actor: Actor = request.auth
    membership = None
    if payload.driver_email:
        membership = find_driver_for(actor, payload.driver_email)
        if membership is None:
            raise ValidationError({"driver_email": [services.NOT_YOUR_DRIVER]})
    charger, password = services.charger_register(
        actor=actor,
        organisation=membership.organisation if membership else actor.organisation,
        identity=payload.identity,
        serial=payload.serial,
        password=payload.password,
        vendor=payload.vendor,
        model=payload.model,
        driver=membership.driver if membership else None,
    )
    return Status(201, {**charger_out(charger), "password": password})


@router.get(
    "/chargers/{charger_id}", response=ChargerOut, auth=requires(Permission.VIEW_INSTALLATIONS)
)
def chargers_read(request: ApiRequest, charger_id: int) -> dict[str, Any]:
    return charger_out(get_charger_for(request.auth, charger_id))


@router.get("/charging-sessions", response=SessionPage, auth=requires(Permission.VIEW_REPORTS))
def sessions_list(
    request: ApiRequest,
    charger: str = "",
    driver: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    review: str = "",
    type: str = "",
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """Home sessions of connections with Home Charging Data Sharing, and public sessions
    of the organisation's drivers (``type=home`` or ``type=public`` for one kind only).
    ``start``/``end`` bound the session start (ISO 8601 with a time zone);
    ``review=pending`` lists the sessions held out of reimbursement until reviewed. Of a
    personal public session (the driver pays it) only the date, driver, energy and
    purpose are given: its place, operator and cost are null."""
    actor: Actor = request.auth
    if start and end and end <= start:
        raise ValidationError({"end": ["The end of the period must be after its start."]})
    check_page(offset, limit)
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise ValidationError({name: ["Give a time zone, e.g. 2026-11-01T00:00:00Z."]})
    if type not in ("", *SessionKind.values):
        raise ValidationError({"type": ["Use home or public."]})
    if review not in ("", *SessionReview.values):
        raise ValidationError({"review": ["Use pending, accepted or rejected."]})
    for name, value in (("start", start), ("end", end)):
        if value is not None:
            try:
                check_time(value)
            except OutOfWindow as exc:
                raise ValidationError({name: [str(exc)]}) from exc
    rows = sessions_of_kind_visible_to(actor, type, SessionFilter(charger, driver, start, end))
    if review:
        rows = rows.filter(review=review)
    return page_of(rows, offset, limit, session_out)


@router.post(
    "/charging-sessions/{session_id}/review",
    response=SessionReviewOut,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def sessions_review(request: ApiRequest, session_id: int, payload: SessionReviewIn) -> Any:
    """Accept (it counts on the next statement run) or reject (never reimbursed) a
    session held for review. 422 when it is not awaiting review."""
    actor: Actor = request.auth
    session = services.session_review(
        actor=actor,
        session=get_session_for(actor, session_id),
        accept=payload.decision == "accept",
    )
    return {"id": session.pk, "energy_wh": session.energy_wh, "review": session.review}
