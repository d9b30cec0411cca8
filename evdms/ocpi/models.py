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


# --- what we send: tokens pushed to each partner's Tokens Receiver --------------------


class PushState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    SUPERSEDED = "superseded", "Superseded by a later change"


class TokenPush(models.Model):
    """One change of a token (its ``revision``) to PUT to one partner. The worker sends
    the newest revision per (partner, token) and marks older pending ones superseded, so
    a partner never hears an older state after a newer one; retried with back-off until
    sent, so a partner that is down loses nothing."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="token_pushes")
    token = models.ForeignKey(
        "public_charging.Token", on_delete=models.CASCADE, related_name="pushes"
    )
    revision = models.PositiveBigIntegerField()
    state = models.CharField(max_length=10, choices=PushState.choices, default=PushState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "token", "revision"], name="ocpi_push_once_per_revision"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="ocpi_push_due")]

    def __str__(self) -> str:
        return f"{self.token_id} r{self.revision} → {self.partner_id} ({self.state})"


# --- what partners send: objects keyed by the partner's country code and party id -----


class PartnerObject(models.Model):
    """What every object a partner pushes has: its owner (the party in the object, one
    of the partner's roles), its id, the body as received (for people and disputes) and
    the partner's ``last_updated``."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    object_id = models.CharField(max_length=36)
    body = models.JSONField(default=dict)
    last_updated = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id}*{self.object_id}"


class PartnerLocation(PartnerObject):
    """A charge location (CPO's Locations module): what reports name the place by."""

    name = models.CharField(max_length=255, blank=True)
    address = models.CharField(max_length=255, blank=True)  # street, postal code, city, country
    operator_name = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id", "object_id"], name="ocpi_location_unique"
            )
        ]


class PartnerTariff(PartnerObject):
    """A tariff (Tariffs module), kept so a CDR's tariff ids can be read back."""

    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id", "object_id"], name="ocpi_tariff_unique"
            )
        ]


class PartnerSession(PartnerObject):
    """A live session (Sessions module); ``charging_session`` is what the driver sees."""

    status = models.CharField(max_length=12, blank=True)
    charging_session = models.ForeignKey(
        "charging.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id", "object_id"], name="ocpi_session_unique"
            )
        ]


class Cdr(PartnerObject):
    """A charge detail record (CDRs module): kept once per (country code, party id, id),
    whatever it says. One that could not be matched to a driver (unknown or foreign
    token, no membership) has ``flags`` and ``needs_attention``: it is shown to platform
    operators and never counted until one resolves it.

    Kept on POST, matched (driver, membership, session) by the worker: until then
    ``matched_at`` is empty and the CDR has no session, so nothing counts it."""

    # A credit CDR's id may be 39 characters (the original's 36 with "-C" or the like).
    object_id = models.CharField(max_length=39)
    token_uid = models.CharField(max_length=36, blank=True)
    charging_session = models.ForeignKey(
        "charging.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    credit = models.BooleanField(default=False)
    credit_reference_id = models.CharField(max_length=39, blank=True)
    credits = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credited_by"
    )
    flags = models.JSONField(default=list, blank=True)
    needs_attention = models.BooleanField(default=False)
    matched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id", "object_id"], name="ocpi_cdr_unique"
            )
        ]
        indexes = [
            models.Index(fields=["needs_attention", "received_at"], name="ocpi_cdr_attention"),
            # The worker's queue: only CDRs not matched yet (a handful), in arrival order.
            models.Index(
                fields=["id"], condition=Q(matched_at__isnull=True), name="ocpi_cdr_unmatched"
            ),
            # A new CDR looks for credits that arrived before it.
            models.Index(fields=["credit_reference_id"], name="ocpi_cdr_credit_reference"),
        ]
