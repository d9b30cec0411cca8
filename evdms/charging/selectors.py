"""Reads about home charging shared by pages, API and (later) reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor, Permission
from evdms.charging.access import sessions_in_reach
from evdms.charging.models import ChargingSession, SessionKind, SessionReview


@dataclass
class SessionFilter:
    charger: str = ""
    driver: str = ""
    start: datetime | None = None
    end: datetime | None = None


def _filtered(rows: QuerySet[ChargingSession], f: SessionFilter) -> QuerySet[ChargingSession]:
    if f.charger:
        rows = rows.filter(charger__identity=f.charger)
    if f.driver:
        rows = rows.filter(driver__email__iexact=f.driver)
    if f.start:
        rows = rows.filter(started_at__gte=f.start)
    if f.end:
        rows = rows.filter(started_at__lt=f.end)
    return rows


def sessions_visible_to(
    actor: Actor, f: SessionFilter | None = None, *, permission: Permission | None = None
) -> QuerySet[ChargingSession]:
    """Home sessions an organisation may see in detail: only those under a connection
    with Home Charging Data Sharing (the connection in force at the session's start)."""
    rows = ChargingSession.objects.filter(
        sessions_in_reach(actor, permission),
        kind=SessionKind.HOME,
        connection__home_charging_data_sharing=True,
    ).select_related("charger", "driver", "connection")
    return _filtered(rows, f or SessionFilter()).order_by("-started_at", "-pk")


def monthly_energy_without_sharing(
    actor: Actor, *, permission: Permission | None = None
) -> QuerySet[ChargingSession, Mapping[str, Any]]:
    """For connections without data sharing, only what reimbursement needs: per month and
    driver, the number of sessions and the energy."""
    return (
        ChargingSession.objects.filter(sessions_in_reach(actor, permission), kind=SessionKind.HOME)
        .exclude(connection__home_charging_data_sharing=True)
        .annotate(month=TruncMonth("started_at"))
        .values("month", "driver__email", "driver__full_name")
        .annotate(sessions=Count("pk"), energy_wh=Sum("energy_wh"))
        .order_by("-month", "driver__email")
    )


def own_sessions(driver: User, f: SessionFilter | None = None) -> QuerySet[ChargingSession]:
    """A driver always sees their own home sessions (public ones have a page of their
    own: evdms/public_charging/views_sessions.py)."""
    rows = ChargingSession.objects.filter(driver=driver, kind=SessionKind.HOME).select_related(
        "charger", "connection"
    )
    return _filtered(rows, f or SessionFilter()).order_by("-started_at", "-pk")


def sessions_awaiting_review(
    actor: Actor, *, permission: Permission | None = None
) -> QuerySet[ChargingSession]:
    """Held sessions of the organisation's chargers, whether or not the connection shares
    home charging data: a session is reimbursed only once reviewed, so its admin sees
    it (the page shows only the month for connections that do not share data)."""
    return (
        ChargingSession.objects.filter(
            sessions_in_reach(actor, permission),
            kind=SessionKind.HOME,
            review=SessionReview.PENDING,
        )
        .select_related("charger", "driver", "connection")
        .order_by("-started_at", "-pk")
    )


def sessions_of_kind_visible_to(
    actor: Actor, kind: str = "", f: SessionFilter | None = None
) -> QuerySet[ChargingSession]:
    """The API's sessions list: home sessions as ``sessions_visible_to`` shows them, and
    the public sessions of the organisations the actor acts for (a public session has no
    charger of ours: it belongs to the organisation of the driver's token). ``kind``
    empty means both. What of a personal public session is shown is the API's to decide
    (``evdms.public_charging.selectors_sessions.organisation_sees_details``)."""
    f = f or SessionFilter()
    in_reach = sessions_in_reach(actor)
    home = Q(in_reach, kind=SessionKind.HOME, connection__home_charging_data_sharing=True)
    public = Q(in_reach, kind=SessionKind.PUBLIC)
    which = (
        home
        if kind == SessionKind.HOME
        else public
        if kind == SessionKind.PUBLIC
        else home | public
    )
    rows = ChargingSession.objects.filter(which).select_related("charger", "driver", "connection")
    return _filtered(rows, f).order_by("-started_at", "-pk")
