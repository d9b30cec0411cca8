"""Tenant-scoped look-ups of connections: another organisation's connection is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.access import organisations_acting_for
from evdms.accounts.permissions import Actor
from evdms.connections.models import Connection


def connections_for(actor: Actor) -> QuerySet[Connection]:
    return Connection.objects.filter(organisation__in=organisations_acting_for(actor))


def get_connection_for(actor: Actor, connection_id: int) -> Connection:
    return get_object_or_404(
        connections_for(actor).select_related("organisation"), pk=connection_id
    )
