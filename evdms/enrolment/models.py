"""Drivers of connections: invitations, connection requests (memberships), the terms
they agreed to. A membership is one driver's place in one connection, from request to
removal; its changes are kept in the audit log, so a driver's history is continuous."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

LIVE_STATUSES = ["pending", "connected"]


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONNECTED = "connected", _("Connected")
    DENIED = "denied", _("Denied")
    REMOVED = "removed", _("Removed")
    WITHDRAWN = "withdrawn", pgettext_lazy("withdrawn by the driver", "Withdrawn")


# The ended_reason of a membership the driver ended themselves (services.membership_leave).
LEFT_REASON = "Left"
# The ended_reason of a membership the organisation ended (services.membership_remove).
REMOVED_REASON = "Removed by the organisation"


class Membership(models.Model):
    """A driver's request to join a connection and, once approved, their place in it."""

    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="memberships"
    )
    # Copied from the connection, so "one connection per organisation" is a constraint.
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="memberships"
    )
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    status = models.CharField(
        max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    verification_1 = models.CharField(max_length=100, blank=True)
    verification_2 = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    invitation = models.ForeignKey(
        "enrolment.Invitation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Revise Benefits: the membership this one continues (same driver, earlier connection).
    moved_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="moved_to"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    denial_message = models.TextField(blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering: ClassVar = ["-requested_at", "-id"]
        constraints: ClassVar = [
            # A driver holds at most one live place per organisation (pending or connected).
            models.UniqueConstraint(
                fields=["organisation", "driver"],
                condition=Q(status__in=LIVE_STATUSES),
                name="membership_one_live_per_organisation",
                violation_error_message=(
                    "You already have a connection or a pending request with this organisation."
                ),
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["connection", "status"]),
            # The Drivers page: newest requests first within the organisations in view.
            models.Index(fields=["organisation", "-requested_at", "-id"]),
            # Reports read a session's driver verification from this pair.
            models.Index(fields=["driver", "connection"]),
            # The navigation's pending count, on every admin page: read from the index
            # alone (by organisation, SQLite read each of 100,000 memberships: 12 ms).
            models.Index(fields=["organisation", "status"], name="membership_org_status"),
        ]

    def __str__(self) -> str:
        return f"{self.driver} in {self.connection} ({self.status})"

    # A membership that ended is "removed" in the database whoever ended it (the
    # organisation, the driver leaving, Revise Benefits moving the driver on); people
    # are told which. Pages listing many load ``moved_to__connection`` with them
    # (select_related), so the label costs no query a row.

    def moved_to_membership(self) -> Membership | None:
        try:
            return self.moved_to
        except Membership.moved_to.RelatedObjectDoesNotExist:
            return None

    @property
    def status_kind(self) -> str:
        """The status as people tell it apart: ``left`` and ``moved`` besides the
        stored statuses (for the badge's style)."""
        if self.status == MembershipStatus.REMOVED:
            if self.moved_to_membership() is not None:
                return "moved"
            if self.ended_reason == LEFT_REASON:
                return "left"
        return str(self.status)

    @property
    def ended_reason_text(self) -> str:
        """Why it ended, in the reader's language (the reason is stored in English)."""
        if self.ended_reason == REMOVED_REASON:
            return gettext("Removed by the organisation")
        return self.ended_reason

    @property
    def status_label(self) -> str:
        """ "Left", "Moved to <connection>", else the status's own label."""
        kind = self.status_kind
        if kind == "moved":
            moved = self.moved_to_membership()
            assert moved is not None
            return gettext("Moved to %(connection)s") % {"connection": moved.connection.name}
        if kind == "left":
            return gettext("Left")
        return str(self.get_status_display())


class TermsAcceptance(models.Model):
    """The exact custom terms a driver agreed to, with when, who, from where and a fingerprint."""

    membership = models.OneToOneField(
        Membership, on_delete=models.PROTECT, related_name="terms_acceptance"
    )
    driver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # The language of the page the driver agreed on (its labels, not the terms: those
    # are the organisation's text as written); the signed copy is made in it.
    language = models.CharField(max_length=16, blank=True)
    # Set by the worker in the transaction that puts the signed copy in the outbox, so a
    # rerun of the task never sends it twice.
    signed_copy_queued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.driver} accepted {self.sha256[:12]}"


class InvitationBatch(models.Model):
    """One sending of e-mail invitations (a pasted list or an uploaded CSV)."""

    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="invitation_batches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    # One entry per refused line: {"line": n, "value": "...", "reason": "..."}.
    rejected = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.total} invitations to {self.connection}"


class InvitationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    OPENED = "opened", _("Opened link")
    REQUESTED = "requested", _("Requested")
    CONNECTED = "connected", _("Connected")


class Invitation(models.Model):
    batch = models.ForeignKey(InvitationBatch, on_delete=models.CASCADE, related_name="invitations")
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField()
    token = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.QUEUED
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    # The outbox row written when the invitation was claimed for sending: a rerun after a
    # crash delivers rows still queued, instead of losing them or sending twice.
    outbound_email = models.ForeignKey(
        "notifications.OutboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        indexes: ClassVar = [models.Index(fields=["batch", "status"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.connection}"


class ConnectionAlertDigest(models.Model):
    """The daily digest of pending connection requests sent to one admin on one day
    (``evdms.enrolment.services.alerts``): the unique row makes a rerun of the day's job,
    or two schedulers at once, send each admin one digest a day at most."""

    admin = models.ForeignKey("accounts.Admin", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    requests = models.PositiveIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)
    outbound_email = models.ForeignKey(
        "notifications.OutboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["admin", "day"], name="connection_alert_digest_daily")
        ]

    def __str__(self) -> str:
        return f"Digest for admin {self.admin_id} on {self.day}"
