"""Tenant-scoped look-ups of chargers and sessions: one outside what the actor reaches
(another organisation's, or a driver's outside the actor's grant or connection scope)
is a 404, exactly like a missing one."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import reach
from evdms.charging.models import Charger, ChargingSession


def chargers_for(actor: Actor, permission: Permission | None = None) -> QuerySet[Charger]:
    # A charger belongs to an organisation and a driver, not to a connection: a chosen
    # connection reaches the chargers of its drivers.
    scope = reach(actor, permission, default=Permission.VIEW_INSTALLATIONS)
    return Charger.objects.filter(scope.q_for_driver("organisation_id", "driver_id"))


def get_charger_for(actor: Actor, charger_id: int, permission: Permission | None = None) -> Charger:
    return get_object_or_404(
        chargers_for(actor, permission).select_related("driver", "organisation"), pk=charger_id
    )


def sessions_in_reach(actor: Actor, permission: Permission | None = None) -> Q:
    """Sessions of the connections in reach (the connection in force when the session
    started), and, where a whole organisation is, also those under no connection."""
    scope = reach(actor, permission, default=Permission.VIEW_REPORTS)
    return scope.q("organisation_id", "connection_id")


def get_session_for(
    actor: Actor, session_id: int, permission: Permission | None = None
) -> ChargingSession:
    """A session in reach; else 404 (same as missing)."""
    return get_object_or_404(
        ChargingSession.objects.select_related("charger", "driver", "connection").filter(
            sessions_in_reach(actor, permission)
        ),
        pk=session_id,
    )
