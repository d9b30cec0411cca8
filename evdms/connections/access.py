"""Tenant-scoped look-ups of connections: a connection outside what the actor reaches
for the permission at hand (another organisation's, one a grant or the actor's own
scope leaves out) is a 404, exactly like a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import reach
from evdms.connections.models import Connection


def connections_for(actor: Actor, permission: Permission | None = None) -> QuerySet[Connection]:
    """Without ``permission``: those the page or operation being served may act on."""
    scope = reach(actor, permission, default=Permission.VIEW_CONNECTIONS)
    return Connection.objects.filter(scope.q("organisation_id", "pk"))


def get_connection_for(
    actor: Actor, connection_id: int, permission: Permission | None = None
) -> Connection:
    return get_object_or_404(
        connections_for(actor, permission).select_related("organisation"), pk=connection_id
    )
