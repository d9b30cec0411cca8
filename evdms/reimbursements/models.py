"""Reimbursement of home charging: the driver's bank account and home price per kWh."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from evdms.accounts import field_crypto as crypto
from evdms.charging.bounds import LINE_AMOUNT_MAX, MONEY_12_2_MAX, SESSION_WH_STORABLE

# A payout batch's total: DecimalField(14, 2).
BATCH_TOTAL_MAX = Decimal("999999999999.99")


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


# The hold reason of a statement made while the driver had no bank details; adding them
# releases it (services.bank_account_set).
NO_BANK_DETAILS = "no bank details"
NO_HOME_PRICE = "no home price for some sessions"
# The stored reasons (English, as the API gives them) as a person reads them.
HELD_REASONS = {
    NO_BANK_DETAILS: _("no bank details"),
    NO_HOME_PRICE: _("no home price for some sessions"),
}


def statement_reference(statement_id: int, month: date) -> str:
    """A statement's reference, e.g. ST-202610-0000042 (reports make it from two columns
    without reading the statement)."""
    return f"ST-{month:%Y%m}-{statement_id:07d}"


class StatementStatus(models.TextChoices):
    READY = "ready", _("Ready to pay")
    HELD = "held", _("Held")
    IN_BATCH = "in_batch", _("In a payout batch")
    PAID = "paid", pgettext_lazy("paid out to the driver", "Paid")
    FAILED = "failed", _("Payment failed")
    # The payment failed and the total was added to the driver's next statement.
    CARRIED_OVER = "carried_over", _("Carried over")


class Statement(models.Model):
    """One driver's reimbursement for one month under one connection."""

    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="statements"
    )
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="statements"
    )
    month = models.DateField(help_text=_("the first day of the month"))
    currency = models.CharField(max_length=3)
    # The sum of the lines, rounded once, half-up, to the cent, plus the totals carried
    # over from failed payments (whole cents already, so nothing more is rounded).
    total = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=20, choices=StatementStatus.choices)
    held_reason = models.CharField(max_length=200, blank=True)
    bank_account = models.ForeignKey(
        BankAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set in the transaction that writes the statement e-mail (with its PDF) to the
    # outbox, so the driver gets it once whatever reruns and workers do.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-month", "driver_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["driver", "connection", "month"], name="statement_once_per_month"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="statement_total_not_negative"),
            # The column's own limit, also on SQLite (which would store a larger one and
            # then fail every read of it).
            models.CheckConstraint(
                condition=Q(total__lte=MONEY_12_2_MAX), name="statement_total_fits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.currency} {self.total}"

    @property
    def held_reason_display(self) -> str:
        """Why it is held, in the reader's language (a reason not known here as stored)."""
        reasons = [r for r in self.held_reason.split("; ") if r]
        return "; ".join(str(HELD_REASONS.get(reason, reason)) for reason in reasons)

    @property
    def reference(self) -> str:
        return statement_reference(self.pk, self.month)


class StatementLine(models.Model):
    # No foreign key constraint in the database for the statement and the session (the
    # ORM keeps CASCADE and PROTECT): the statement run writes millions of lines, and
    # PostgreSQL checks a constraint row by row (a lookup and a row lock of the session
    # each), half the lines' cost. Lines are written only by the run, in the transaction
    # that creates their statement, for sessions it has just read; sessions and
    # statements are never deleted (PROTECT). The unique session column stays.
    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="lines", db_constraint=False
    )
    # One session is reimbursed at most once, whatever reruns or workers do.
    session = models.OneToOneField(
        "charging.ChargingSession",
        on_delete=models.PROTECT,
        related_name="statement_line",
        db_constraint=False,
    )
    energy_wh = models.BigIntegerField()
    driver_price = models.DecimalField(max_digits=8, decimal_places=4)
    cap = models.DecimalField(max_digits=8, decimal_places=4)
    price_used = models.DecimalField(max_digits=8, decimal_places=4)
    # Exact: kWh (3 decimals) × price (4 decimals) has at most 7 decimals. Not rounded.
    amount = models.DecimalField(max_digits=16, decimal_places=7)
    late = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar = ["session__started_at"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(price_used__lte=models.F("cap")), name="line_cap_kept"
            ),
            models.CheckConstraint(
                condition=Q(energy_wh__gte=0, energy_wh__lte=SESSION_WH_STORABLE),
                name="line_energy_in_range",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0, amount__lte=LINE_AMOUNT_MAX), name="line_amount_fits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.amount}"


class CarryOver(models.Model):
    """The total of a statement whose payment failed, added to the same driver's next
    statement for the same connection (with a notice on it)."""

    # Carried over once, whatever reruns or workers do.
    failed_statement = models.OneToOneField(
        Statement, on_delete=models.PROTECT, related_name="carried_over_to"
    )
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="carry_overs")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["failed_statement_id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="carry_over_not_negative"),
            models.CheckConstraint(
                condition=Q(amount__lte=MONEY_12_2_MAX), name="carry_over_amount_fits"
            ),
            models.CheckConstraint(
                condition=~Q(statement=models.F("failed_statement")),
                name="carry_over_into_another_statement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.failed_statement_id} → {self.statement_id}: {self.amount}"

    @property
    def notice(self) -> str:
        return gettext("Payment of %(reference)s failed, added here") % {
            "reference": self.failed_statement.reference
        }


class PayoutBatch(models.Model):
    """Statements paid together by one SEPA credit transfer file.

    draft → exported (the file was made and handed to the bank) → paid (every line is
    settled: paid, or failed and returned to the driver's next statement).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        EXPORTED = "exported", _("Exported")
        PAID = "paid", pgettext_lazy("paid out to the driver", "Paid")

    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    execution_date = models.DateField()
    message_id = models.CharField(max_length=35, blank=True)
    sepa_xml = models.TextField(blank=True)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    exported_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]
        verbose_name_plural = _("payout batches")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(exported_at__isnull=False),
                name="payout_batch_exported_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False),
                name="payout_batch_paid_has_time",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0, total__lte=BATCH_TOTAL_MAX),
                name="payout_batch_total_fits",
            ),
        ]

    def __str__(self) -> str:
        return f"Payout batch {self.pk} ({self.status})"


class PayoutLineStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", pgettext_lazy("paid out to the driver", "Paid")
    FAILED = "failed", _("Failed")


class PayoutLine(models.Model):
    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="lines")
    # A statement is never in two batches.
    statement = models.OneToOneField(Statement, on_delete=models.PROTECT, related_name="payout")
    end_to_end_id = models.CharField(max_length=35, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(
        max_length=10, choices=PayoutLineStatus.choices, default=PayoutLineStatus.PENDING
    )
    # What the bank said, e.g. "AC04 closed account" (an ISO 20022 reason code and words).
    failure_reason = models.CharField(max_length=140, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["pk"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status="pending", settled_at__isnull=True)
                | (~Q(status="pending") & Q(settled_at__isnull=False)),
                name="payout_line_settled_has_time",
            ),
            models.CheckConstraint(
                condition=(Q(status="failed") & ~Q(failure_reason=""))
                | (~Q(status="failed") & Q(failure_reason="")),
                name="payout_line_failure_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0, amount__lte=MONEY_12_2_MAX),
                name="payout_line_amount_fits",
            ),
        ]

    def __str__(self) -> str:
        return self.end_to_end_id


class ScheduledRun(models.Model):
    """A periodic job claimed for one period: the unique row lets any number of scheduler
    processes try, and exactly one of them enqueues the job."""

    job = models.CharField(max_length=50)
    period = models.CharField(max_length=20, help_text=_("e.g. 2026-10 for a monthly job"))
    claimed_at = models.DateTimeField(default=timezone.now)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering: ClassVar = ["-claimed_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["job", "period"], name="scheduled_run_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.period}"
