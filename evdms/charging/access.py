"""Tenant-scoped look-ups of chargers: another organisation's charger is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.access import organisations_acting_for
from evdms.accounts.permissions import Actor
from evdms.charging.models import Charger, ChargingSession


def chargers_for(actor: Actor) -> QuerySet[Charger]:
    ids = list(organisations_acting_for(actor).values_list("pk", flat=True))
    return Charger.objects.filter(organisation_id__in=ids)


def get_charger_for(actor: Actor, charger_id: int) -> Charger:
    return get_object_or_404(
        chargers_for(actor).select_related("driver", "organisation"), pk=charger_id
    )


def get_session_for(actor: Actor, session_id: int) -> ChargingSession:
    """A session of one of the organisation's chargers; else 404 (same as missing)."""
    return get_object_or_404(
        ChargingSession.objects.select_related("charger", "driver", "connection"),
        pk=session_id,
        charger__in=chargers_for(actor),
    )
