"""Tenant-scoped look-ups of drivers' memberships and invitation batches: another
organisation's is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.models import Organisation, User
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import reach
from evdms.connections.access import get_connection_for
from evdms.enrolment.models import LIVE_STATUSES, InvitationBatch, Membership


def memberships_for(actor: Actor, permission: Permission | None = None) -> QuerySet[Membership]:
    # A plain IN list of organisation ids lets the database use the (organisation,
    # requested_at) index on large driver tables.
    scope = reach(actor, permission, default=Permission.MANAGE_DRIVERS)
    return Membership.objects.filter(scope.q("organisation_id", "connection_id"))


def get_membership_for(
    actor: Actor, membership_id: int, permission: Permission | None = None
) -> Membership:
    return get_object_or_404(
        memberships_for(actor, permission).select_related("connection", "driver", "organisation"),
        pk=membership_id,
    )


def find_driver_for(
    actor: Actor,
    email: str,
    *,
    organisation: Organisation | None = None,
    permission: Permission | None = None,
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
    rows = memberships_for(actor, permission).filter(driver__email=email, status__in=LIVE_STATUSES)
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


def get_invitation_batch_for(
    actor: Actor, connection_id: int, batch_id: int, permission: Permission | None = None
) -> InvitationBatch:
    """A batch of the actor's connection; a batch of another connection is missing too."""
    connection = get_connection_for(
        actor, connection_id, permission or actor.acting_as or Permission.MANAGE_DRIVERS
    )
    batch = get_object_or_404(InvitationBatch, pk=batch_id, connection=connection)
    batch.connection = connection  # already fetched, with its organisation
    return batch
