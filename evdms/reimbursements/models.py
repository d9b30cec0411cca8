"""Reimbursement of home charging: the driver's bank account and home price per kWh."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from evdms.reimbursements import crypto


class BankAccount(models.Model):
    """A driver's bank account. Holder and IBAN are encrypted; a change makes a new row
    and retires the old one, so what was paid where stays known."""

    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bank_accounts"
    )
    holder_encrypted = models.TextField()
    iban_encrypted = models.TextField()
    # Only what a masked display needs is kept in clear.
    iban_country = models.CharField(max_length=2)
    iban_last4 = models.CharField(max_length=4)
    bic = models.CharField(max_length=11, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["driver"],
                condition=Q(retired_at__isnull=True),
                name="bank_account_one_current_per_driver",
            )
        ]

    def __str__(self) -> str:
        return self.masked_iban

    @property
    def masked_iban(self) -> str:
        return f"{self.iban_country}•• •••• {self.iban_last4}"

    @property
    def iban(self) -> str:
        return crypto.decrypt(self.iban_encrypted)

    @property
    def holder(self) -> str:
        return crypto.decrypt(self.holder_encrypted)


class HomePrice(models.Model):
    """The driver's average home electricity price per kWh, from a date on."""

    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="home_prices"
    )
    price_per_kwh = models.DecimalField(max_digits=8, decimal_places=4)
    currency = models.CharField(max_length=3, default="EUR")
    valid_from = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-valid_from", "-created_at"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(price_per_kwh__gt=0), name="home_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.price_per_kwh} from {self.valid_from}"
