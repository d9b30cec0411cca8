"""OCPI partners: the CPOs and hubs the platform (an eMSP) exchanges data with.

Tokens, in the words of the credentials module seen from our side:

- token A: ours, given to a partner outside OCPI so it can register with us; works only
  while the partner is pending, on the versions and credentials modules.
- token C: ours, issued at registration (and at each PUT); the partner calls us with it.
- token B: the partner's, that we call it with. We must present it, so it is encrypted
  at rest (``evdms.accounts.field_crypto``); A and C we only recognise, so only their
  keyed hashes are stored.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from evdms.accounts import field_crypto


class PartnerRole(models.TextChoices):
    CPO = "CPO", "Charge point operator"
    HUB = "HUB", "Roaming hub"


class PartnerStatus(models.TextChoices):
    PENDING = "pending", "Pending registration"
    REGISTERED = "registered", "Registered"
    SUSPENDED = "suspended", "Suspended"
    UNREGISTERED = "unregistered", "Unregistered"


class Partner(models.Model):
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=3, choices=PartnerRole.choices, default=PartnerRole.CPO)
    status = models.CharField(
        max_length=12, choices=PartnerStatus.choices, default=PartnerStatus.PENDING
    )
    # The partner's versions endpoint, the version we agreed on and its endpoints there
    # (the version details' ``endpoints`` list: identifier, role, url).
    versions_url = models.URLField(max_length=255, blank=True)
    version = models.CharField(max_length=10, blank=True)
    endpoints = models.JSONField(default=list, blank=True)
    # The ``roles`` of its credentials (role, country_code, party_id, business_details).
    roles = models.JSONField(default=list, blank=True)
    token_a_hash = models.CharField(max_length=100, blank=True)
    token_c_hash = models.CharField(max_length=100, blank=True)
    token_b_encrypted = models.TextField(blank=True)
    last_traffic_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    registered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["token_a_hash"], condition=~Q(token_a_hash=""), name="ocpi_unique_token_a"
            ),
            models.UniqueConstraint(
                fields=["token_c_hash"], condition=~Q(token_c_hash=""), name="ocpi_unique_token_c"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    @property
    def token_b(self) -> str:
        return field_crypto.decrypt(self.token_b_encrypted) if self.token_b_encrypted else ""

    def endpoint_url(self, identifier: str, role: str | None = None) -> str | None:
        """The URL of one of the partner's modules (``role`` SENDER or RECEIVER), if any."""
        for endpoint in self.endpoints:
            if endpoint.get("identifier") == identifier and (
                role is None or endpoint.get("role") == role
            ):
                return str(endpoint.get("url"))
        return None

    def parties(self) -> list[tuple[str, str]]:
        """(country_code, party_id) of each of its roles, the keys of the objects it pushes."""
        return [
            (str(r.get("country_code", "")).upper(), str(r.get("party_id", "")).upper())
            for r in self.roles
            if isinstance(r, dict)
        ]

    def public_roles(self) -> list[dict[str, Any]]:
        return [r for r in self.roles if isinstance(r, dict)]
