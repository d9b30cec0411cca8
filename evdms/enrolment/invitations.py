"""E-mail invitations to a connection and their tracking (sent → opened link →
requested → connected). Tracking only moves forward."""

from __future__ import annotations

from django.utils import timezone

from evdms.enrolment.models import Invitation, InvitationStatus

_ORDER = [
    InvitationStatus.QUEUED,
    InvitationStatus.SENT,
    InvitationStatus.OPENED,
    InvitationStatus.REQUESTED,
    InvitationStatus.CONNECTED,
]


def _advance(invitation: Invitation, status: str, stamp_field: str) -> None:
    earlier = [s for s in _ORDER[: _ORDER.index(InvitationStatus(status))]]
    Invitation.objects.filter(pk=invitation.pk, status__in=earlier).update(
        status=status, **{stamp_field: timezone.now()}
    )


def invitation_opened(*, token: str, connection_id: int) -> Invitation | None:
    """The invitation behind a link's ``?invitation=`` token, marked opened; None if unknown."""
    invitation = Invitation.objects.filter(token=token, connection_id=connection_id).first()
    if invitation is not None:
        _advance(invitation, InvitationStatus.OPENED, "opened_at")
    return invitation


def invitation_requested(*, invitation: Invitation) -> None:
    _advance(invitation, InvitationStatus.REQUESTED, "requested_at")


def invitation_connected(*, invitation: Invitation) -> None:
    _advance(invitation, InvitationStatus.CONNECTED, "connected_at")
