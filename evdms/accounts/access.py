"""Tenant-scoped look-ups. An object of another organisation raises Http404, exactly
like a missing one, so nobody can learn what exists elsewhere."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.models import Admin, ApiKey, Organisation
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import reach


def organisations_wholly_for(actor: Actor, permission: Permission) -> QuerySet[Organisation]:
    """The organisations all of whose connections, present and future, are in reach: where
    the actor may create a connection, or register a charger."""
    return Organisation.objects.filter(pk__in=sorted(reach(actor, permission).organisations))


def get_admin_for(actor: Actor, admin_id: int) -> Admin:
    # Admins are managed only inside their own organisation, never through a grant.
    return get_object_or_404(
        Admin.objects.select_related("user", "organisation"),
        pk=admin_id,
        organisation=actor.organisation,
    )


def get_api_key_for(actor: Actor, key_id: int) -> ApiKey:
    return get_object_or_404(ApiKey, pk=key_id, organisation=actor.organisation)
