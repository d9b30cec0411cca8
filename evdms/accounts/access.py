"""Tenant-scoped look-ups. An object of another organisation raises Http404, exactly
like a missing one, so nobody can learn what exists elsewhere."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.models import Admin, ApiKey, Organisation
from evdms.accounts.permissions import Actor


def organisations_acting_for(actor: Actor) -> QuerySet[Organisation]:
    """The actor's own organisation and those that granted it rights (not revoked)."""
    return Organisation.objects.filter(
        Q(pk=actor.organisation.pk)
        | Q(grants_given__grantee=actor.organisation, grants_given__revoked_at__isnull=True)
    ).distinct()


def get_admin_for(actor: Actor, admin_id: int) -> Admin:
    # Admins are managed only inside their own organisation, never through a grant.
    return get_object_or_404(
        Admin.objects.select_related("user", "organisation"),
        pk=admin_id,
        organisation=actor.organisation,
    )


def get_api_key_for(actor: Actor, key_id: int) -> ApiKey:
    return get_object_or_404(ApiKey, pk=key_id, organisation=actor.organisation)
