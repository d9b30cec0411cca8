"""Who an export is for, and what it may hold, for as long as it exists.

An export is made in the worker and downloaded later, perhaps by another admin. Both
act for the requester as they are *now*: a revoked grant, a narrowed connection scope, a
disabled admin or a revoked API key ends the export (it is not made, or no longer handed
over), and an admin downloads only an export whose scope is within their own.
"""

from __future__ import annotations

from typing import Any

from evdms.accounts.models import AdminStatus, ApiKey
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import Reach, reach
from evdms.reports.models import ReportExport

NOT_DELIVERED = (
    "Not delivered: the rights it was asked with have changed (a grant was revoked or a "
    "connection scope narrowed). Ask for it again."
)


def scope_of(actor: Actor, permission: Permission) -> dict[str, Any]:
    """What to store on an export asked for by ``actor``."""
    from evdms.connections.models import Connection

    found = reach(actor, permission)
    pairs = Connection.objects.filter(pk__in=sorted(found.connections)).values_list(
        "organisation_id", "pk"
    )
    return {
        "permission": permission.value,
        "organisations": sorted(found.organisations),
        "connections": sorted([org, pk] for org, pk in pairs),
    }


def _within(scope: dict[str, Any], found: Reach) -> bool:
    organisations = set(scope.get("organisations", []))
    if not organisations <= found.organisations:
        return False
    return all(
        org in found.organisations or pk in found.connections
        for org, pk in scope.get("connections", [])
    )


def requester(export: ReportExport) -> Actor | None:
    """The requester as they are now; None when they may no longer act (an admin
    disabled or gone, a key revoked) or act for another organisation."""
    actor: Actor | None = None
    if export.requested_by_key_id is not None:
        key = ApiKey.objects.filter(pk=export.requested_by_key_id, revoked_at__isnull=True).first()
        actor = Actor.for_api_key(key) if key is not None else None
    elif export.requested_by is not None:
        admin = export.requested_by.admin_or_none
        if admin is not None and admin.status == AdminStatus.ACTIVE:
            actor = Actor.for_user(export.requested_by)
    else:  # asked for by the system (tests, commands): as the stored role
        actor = Actor(organisation=export.organisation, role=export.role)
    if actor is None or actor.organisation.pk != export.organisation_id:
        return None
    return actor


def deliverable(export: ReportExport, permission: Permission) -> Actor | None:
    """The requester, when the export may still be made or handed over; else None."""
    actor = requester(export)
    if actor is None:
        return None
    # Serving the report's permission: the worker's look-ups then reach what the page's do.
    actor = actor.serving(permission)
    if export.scope and not _within(export.scope, reach(actor, permission)):
        return None
    return actor


def visible_to(actor: Actor, export: ReportExport, permission: Permission) -> bool:
    """Whether ``actor`` (an admin of the export's organisation) may see and download it:
    its scope within theirs, and still deliverable."""
    if export.organisation_id != actor.organisation.pk:
        return False
    if export.scope and not _within(export.scope, reach(actor, permission)):
        return False
    return deliverable(export, permission) is not None
