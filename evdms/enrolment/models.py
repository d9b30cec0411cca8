"""Drivers of connections. The joining flow (invitations, requests, approvals) builds on
this; the connection pages already count and protect connected drivers with it."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CONNECTED = "connected", _("Connected")
    DENIED = "denied", _("Denied")
    REMOVED = "removed", _("Removed")


class Membership(models.Model):
    """A driver's place in one connection, from request to removal."""

    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="memberships"
    )
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    status = models.CharField(
        max_length=10, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    verification_1 = models.CharField(max_length=100, blank=True)
    verification_2 = models.CharField(max_length=100, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    connected_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            # A driver holds at most one live place per connection.
            models.UniqueConstraint(
                fields=["connection", "driver"],
                condition=Q(status__in=["pending", "connected"]),
                name="membership_one_live_per_connection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.driver} in {self.connection} ({self.status})"
