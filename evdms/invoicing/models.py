"""The Direct Invoice Service: the platform operator's invoices to organisations.

Three kinds each month, as the reference product sends them: a Bundle invoice per driver
(home charger and installation), one Services invoice (fees), one Transactions invoice
(business public sessions, home reimbursements paid). Corrections are credit notes.

An issued invoice never changes: its parties, lines and totals are copies made when it
was issued (``services.issue``), and only its delivery and payment status move on.
Every source (a public session, a paid reimbursement, an installation job) is on at most
one invoice, by a unique column on the line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Invoice totals: DecimalField(14, 2).
TOTAL_MAX = Decimal("999999999999.99")
# A fee or a unit price: DecimalField(12, 4).
FEE_MAX = Decimal("99999999.9999")


class FeeBasis(models.TextChoices):
    """How a service fee is counted."""

    PER_ITEM = "per_item", _("Fixed amount per item")  # per statement / per session
    PERCENT = "percent", _("Percentage of the amount")


class FeeSchedule(models.Model):
    """What the platform charges an organisation, from a month on (the first day of it).
    The schedule in force for a month is the latest whose ``valid_from`` is on or before
    it; a change is a new row, so the history stays. Set by platform operators."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="fee_schedules"
    )
    valid_from = models.DateField(help_text=_("the first day of the month it applies from"))
    currency = models.CharField(max_length=3, default="EUR")
    # Excl. VAT, per connected driver and month.
    driver_fee = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(0))
    # True: by the days the driver was connected in the month; False: any day connected
    # counts a whole month.
    driver_fee_pro_rata = models.BooleanField(default=True)
    # Excl. VAT, per driver with a home charger installed through the platform, per month.
    warranty_fee = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(0))
    reimbursement_fee_basis = models.CharField(
        max_length=10, choices=FeeBasis.choices, default=FeeBasis.PER_ITEM
    )
    # PER_ITEM: per reimbursement statement paid; PERCENT: of the amount paid.
    reimbursement_fee = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(0))
    public_fee_basis = models.CharField(
        max_length=10, choices=FeeBasis.choices, default=FeeBasis.PER_ITEM
    )
    # PER_ITEM: per business public session; PERCENT: of its cost excl. VAT.
    public_fee = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal(0))
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering: ClassVar = ["organisation", "-valid_from"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["organisation", "valid_from"], name="fee_schedule_one_per_month"
            ),
            models.CheckConstraint(
                condition=Q(
                    driver_fee__gte=0,
                    warranty_fee__gte=0,
                    reimbursement_fee__gte=0,
                    public_fee__gte=0,
                    driver_fee__lte=FEE_MAX,
                    warranty_fee__lte=FEE_MAX,
                    reimbursement_fee__lte=FEE_MAX,
                    public_fee__lte=FEE_MAX,
                ),
                name="fee_schedule_fees_in_range",
            ),
            models.CheckConstraint(
                condition=(~Q(reimbursement_fee_basis="percent") | Q(reimbursement_fee__lte=100))
                & (~Q(public_fee_basis="percent") | Q(public_fee__lte=100)),
                name="fee_schedule_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="fee_schedule_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} from {self.valid_from:%Y-%m}"


class InvoiceKind(models.TextChoices):
    BUNDLE = "bundle", _("Bundle")
    SERVICES = "services", _("Services")
    TRANSACTIONS = "transactions", _("Transactions")
    CREDIT_NOTE = "credit_note", _("Credit note")


# The number series' prefixes: one series per kind and year, e.g. TRX-2026-000017.
SERIES_PREFIX = {
    InvoiceKind.BUNDLE: "BUN",
    InvoiceKind.SERVICES: "SRV",
    InvoiceKind.TRANSACTIONS: "TRX",
    InvoiceKind.CREDIT_NOTE: "CRN",
}


class InvoiceStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    SENT = "sent", pgettext_lazy("an invoice", "Sent")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    # A credit note: nothing to pay, it reduces what its invoice asks.
    CREDIT = "credit", _("Credit")


class InvoiceSeries(models.Model):
    """The next number of one series. Read under a row lock by the transaction that
    issues the invoice, so a rollback or a crash gives the number back: no gaps."""

    key = models.CharField(max_length=20, unique=True)  # e.g. "TRX-2026"
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name_plural = "invoice series"

    def __str__(self) -> str:
        return f"{self.key}: next {self.next_number}"


class Invoice(models.Model):
    number = models.CharField(max_length=30, unique=True)
    kind = models.CharField(max_length=20, choices=InvoiceKind.choices)
    # Whose charges these are (the organisation whose drivers, jobs, sessions), and who
    # the invoice is addressed to: the same, unless it named a payer.
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="invoices"
    )
    buyer = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="invoices_received"
    )
    month = models.DateField(help_text=_("the first day of the month invoiced"))
    # A Bundle invoice is per driver.
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A credit note corrects this invoice.
    credits = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    credit_reason = models.CharField(max_length=300, blank=True)
    issue_date = models.DateField()
    due_date = models.DateField()
    currency = models.CharField(max_length=3)
    # Credit notes hold positive amounts too (their type says they are a credit).
    total_excl_vat = models.DecimalField(max_digits=14, decimal_places=2)
    total_vat = models.DecimalField(max_digits=14, decimal_places=2)
    total_incl_vat = models.DecimalField(max_digits=14, decimal_places=2)
    # ISO 11649 creditor reference (RF…), quoted in the transfer and matched in camt.054.
    payment_reference = models.CharField(max_length=35, unique=True)
    # The parties as they were at issue: {"name", "address", "postcode", "city",
    # "country", "vat_number", "email", "iban", "bic"} (seller) and the buyer's with
    # "purchase_order_reference".
    seller = models.JSONField()
    buyer_details = models.JSONField()
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.ISSUED
    )
    issued_at = models.DateTimeField(default=timezone.now)
    # Claimed in the transaction that writes the e-mail to the outbox (once).
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.CharField(max_length=300, blank=True)  # operator, or the bank file
    overdue_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    # The rendered documents, made once (after commit, in the worker) from the immutable
    # invoice, so a download later gives the very same bytes.
    pdf = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering: ClassVar = ["-issue_date", "-number"]
        constraints: ClassVar = [
            # Exactly once per month, whatever reruns and workers do.
            models.UniqueConstraint(
                fields=["organisation", "kind", "month"],
                condition=Q(kind__in=["services", "transactions"]),
                name="invoice_once_per_month",
            ),
            models.UniqueConstraint(
                fields=["organisation", "month", "driver"],
                condition=Q(kind="bundle"),
                name="bundle_invoice_once_per_driver_month",
            ),
            models.CheckConstraint(
                condition=Q(kind="bundle", driver__isnull=False)
                | (~Q(kind="bundle") & Q(driver__isnull=True)),
                name="invoice_driver_iff_bundle",
            ),
            models.CheckConstraint(
                condition=Q(kind="credit_note", credits__isnull=False)
                | (~Q(kind="credit_note") & Q(credits__isnull=True)),
                name="invoice_credits_iff_credit_note",
            ),
            models.CheckConstraint(
                condition=Q(total_excl_vat__gte=-TOTAL_MAX, total_excl_vat__lte=TOTAL_MAX)
                & Q(total_incl_vat__gte=-TOTAL_MAX, total_incl_vat__lte=TOTAL_MAX),
                name="invoice_totals_fit",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False),
                name="invoice_paid_has_time",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["buyer", "-issue_date"], name="invoice_buyer_issued"),
            models.Index(fields=["status", "due_date"], name="invoice_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_kind_display()})"


class VatCategory(models.TextChoices):
    """UNCL5305 codes, as EN 16931 uses them."""

    STANDARD = "S", _("Standard rate")
    REVERSE_CHARGE = "AE", _("Reverse charge")
    EXEMPT = "E", _("Exempt")
    OUT_OF_SCOPE = "O", _("Not subject to VAT")


class LineSource(models.TextChoices):
    """What a line bills; the CSV and the reconciliation read it."""

    INSTALLATION = "installation", _("Installation")
    DRIVER_FEE = "driver_fee", _("Monthly fee per driver")
    WARRANTY_FEE = "warranty_fee", _("Home warranty and labour")
    REIMBURSEMENT_FEE = "reimbursement_fee", _("Reimbursement service fee")
    PUBLIC_FEE = "public_fee", _("Public charging service fee")
    PUBLIC_SESSION = "public_session", _("Public charging session")
    PUBLIC_SESSION_CREDIT = "public_session_credit", _("Public charging session credited")
    REIMBURSEMENT = "reimbursement", _("Home charging reimbursed")
    CREDIT = "credit", _("Credit")


class InvoiceLine(models.Model):
    """One line, as issued. Net amounts are rounded to the cent per line (EN 16931
    BT-131); VAT is computed per category and rate on the sum (``vat``)."""

    # The invoice, the session and the driver have no foreign key constraint in the
    # database (the ORM keeps CASCADE and PROTECT): a Transactions invoice has a line per
    # public session, and PostgreSQL checks a constraint row by row (a lookup and a row
    # lock each), more than half of writing the lines. Lines are written only with their
    # invoice, in its transaction, from sources read in it; sessions, users and invoices
    # are never deleted (PROTECT). The unique source columns stay. No index of its own
    # for the invoice either: (invoice, position)'s unique index serves its look-ups.
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.CASCADE,
        related_name="lines",
        db_constraint=False,
        db_index=False,
    )
    position = models.PositiveIntegerField()
    source = models.CharField(max_length=25, choices=LineSource.choices)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit = models.CharField(max_length=3, default="C62")  # UN/ECE rec. 20: C62, KWH, DAY, MON
    unit_price = models.DecimalField(max_digits=14, decimal_places=4)  # excl. VAT
    net_amount = models.DecimalField(max_digits=14, decimal_places=2)
    vat_category = models.CharField(max_length=2, choices=VatCategory.choices)
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    vat_exemption_reason = models.CharField(max_length=200, blank=True)

    # Sources: each is billed at most once (a unique column each).
    session = models.OneToOneField(
        "charging.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_line",
        db_constraint=False,
    )
    # The session's operator credited it after it was invoiced: deducted once.
    credited_session = models.OneToOneField(
        "charging.ChargingSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_credit_line",
    )
    payout_line = models.OneToOneField(
        "reimbursements.PayoutLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_line",
    )
    # Indexed only where set (see Meta): most lines have no job and credit no line, and
    # a full index would take an entry for each of them.
    job = models.ForeignKey(
        "installations.InstallationJob",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoice_lines",
        db_index=False,
    )
    # A credit note's line reduces this line of the invoice it credits.
    credits_line = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credited_by",
        db_index=False,
    )

    # What the CSV lists, copied at issue: who, when, where, how much energy.
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    driver_name = models.CharField(max_length=300, blank=True)
    verification_1 = models.CharField(max_length=100, blank=True)
    verification_2 = models.CharField(max_length=100, blank=True)
    customer_id = models.CharField(max_length=100, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    place = models.CharField(max_length=300, blank=True)  # location, or the charger
    energy_wh = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["invoice", "position"]
        indexes: ClassVar = [
            models.Index(fields=["job"], condition=Q(job__isnull=False), name="invoice_line_job"),
            models.Index(
                fields=["credits_line"],
                condition=Q(credits_line__isnull=False),
                name="invoice_line_credits",
            ),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
            # An installation job is billed once (its credit note lines name it too).
            models.UniqueConstraint(
                fields=["job"],
                condition=Q(job__isnull=False, source="installation"),
                name="invoice_line_job_once",
            ),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0, vat_rate__lte=100), name="invoice_line_vat_rate"
            ),
            models.CheckConstraint(
                condition=Q(net_amount__gte=-TOTAL_MAX, net_amount__lte=TOTAL_MAX),
                name="invoice_line_amount_fits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}/{self.position}: {self.net_amount}"


class InvoiceVat(models.Model):
    """The VAT breakdown: one row per category and rate (EN 16931 BG-23)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="vat_lines")
    category = models.CharField(max_length=2, choices=VatCategory.choices)
    rate = models.DecimalField(max_digits=5, decimal_places=2)
    basis = models.DecimalField(max_digits=14, decimal_places=2)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    exemption_reason = models.CharField(max_length=200, blank=True)
    exemption_code = models.CharField(max_length=30, blank=True)  # e.g. VATEX-EU-AE

    class Meta:
        ordering: ClassVar = ["invoice", "category", "rate"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["invoice", "category", "rate"], name="invoice_vat_once_per_rate"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.rate}%: {self.amount}"
