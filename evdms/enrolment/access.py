"""Tenant-scoped look-ups of drivers' memberships and invitation batches: another
organisation's is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.access import organisations_acting_for
from evdms.accounts.models import Organisation, User
from evdms.accounts.permissions import Actor
from evdms.connections.access import get_connection_for
from evdms.enrolment.models import LIVE_STATUSES, InvitationBatch, Membership


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


def find_driver_for(
    actor: Actor, email: str, *, organisation: Organisation | None = None
) -> Membership | None:
    """The live membership (pending or connected) of the driver with this address in an
    organisation the actor may act for (only in ``organisation``, when given), the
    actor's own organisation first; None for an unknown address and for another
    organisation's driver alike, so nobody learns who has an account elsewhere.

    This is how an organisation finds a person by e-mail (to link a charger, …): never
    through a platform-wide look-up of the address.
    """
    email = email.strip().lower()
    if not email:
        return None
    rows = memberships_for(actor).filter(driver__email=email, status__in=LIVE_STATUSES)
    if organisation is not None:
        rows = rows.filter(organisation=organisation)
    # At most one live membership per organisation (a constraint), so these are few.
    found = sorted(
        rows.select_related("driver", "organisation"),
        key=lambda m: (m.organisation_id != actor.organisation.pk, m.pk),
    )
    return found[0] if found else None


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
