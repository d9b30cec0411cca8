"""Drivers' charging tokens for public charging."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TokenType(models.TextChoices):
    # The OCPI names: partners receive these values as they are.
    APP_USER = "APP_USER", _("App")
    RFID = "RFID", _("Charging card")


class TokenBlock(models.TextChoices):
    """Why a token is blocked (empty: it is not)."""

    NONE = "", _("Not blocked")
    LOST = "lost", _("Reported lost")
    BLOCKED = "blocked", _("Blocked by an admin")


class Token(models.Model):
    """A driver's means to start public charging, offered to every roaming partner.

    ``valid`` says whether partners may let it charge: only while the driver's
    membership is connected under an enabled connection that pays for public charging,
    and the token is not blocked. The token services keep it current and bump
    ``revision`` (and ``last_updated``) on every change partners must hear of.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="charging_tokens"
    )
    type = models.CharField(max_length=8, choices=TokenType.choices)
    # OCPI: the token's uid (an RFID card's printed or read uid, or ours for the app),
    # and the contract id, an eMA-ID with its check character (``contract_ids``).
    uid = models.CharField(max_length=36, unique=True)
    contract_id = models.CharField(max_length=36, unique=True)
    visual_number = models.CharField(max_length=64, blank=True)
    blocked = models.CharField(
        max_length=8, choices=TokenBlock.choices, default=TokenBlock.NONE, blank=True
    )
    valid = models.BooleanField(default=False)
    revision = models.PositiveBigIntegerField(default=1)
    last_updated = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["driver_id", "type", "pk"]
        constraints: ClassVar = [
            # One app token per driver and organisation: connecting again revalidates it.
            models.UniqueConstraint(
                fields=["organisation", "driver"],
                condition=Q(type="APP_USER"),
                name="token_one_app_token",
            ),
        ]
        indexes: ClassVar = [
            # The partners' token list, by last change (date_from/date_to), paged.
            models.Index(fields=["last_updated", "id"], name="token_last_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.visual_number or self.uid}"
