"""Tenant-scoped look-ups of drivers' memberships and invitation batches: another
organisation's is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.access import organisations_acting_for
from evdms.accounts.models import User
from evdms.accounts.permissions import Actor
from evdms.connections.access import get_connection_for
from evdms.enrolment.models import InvitationBatch, Membership


def memberships_for(actor: Actor) -> QuerySet[Membership]:
    # The organisation ids are fetched first (one small query): a plain IN list lets the
    # database use the (organisation, requested_at) index on large driver tables.
    ids = list(organisations_acting_for(actor).values_list("pk", flat=True))
    return Membership.objects.filter(organisation_id__in=ids)


def get_membership_for(actor: Actor, membership_id: int) -> Membership:
    return get_object_or_404(
        memberships_for(actor).select_related("connection", "driver", "organisation"),
        pk=membership_id,
    )


def get_own_membership(driver: User, membership_id: int) -> Membership:
    """A driver's own membership (drivers never see anyone else's)."""
    return get_object_or_404(
        Membership.objects.select_related("connection", "organisation"),
        pk=membership_id,
        driver=driver,
    )


def get_invitation_batch_for(actor: Actor, connection_id: int, batch_id: int) -> InvitationBatch:
    """A batch of the actor's connection; a batch of another connection is missing too."""
    connection = get_connection_for(actor, connection_id)
    batch = get_object_or_404(InvitationBatch, pk=batch_id, connection=connection)
    batch.connection = connection  # already fetched, with its organisation
    return batch
