"""Home charger installations: certified installer companies and the regions they serve,
installation jobs from assignment to completion, contact attempts, documents (survey
photos, the installer declaration), quotes with their lines and who pays what, and the
signed links an organisation approves its part through.

A job belongs to the organisation whose connection the driver joined (``organisation``
is copied from the connection, so every organisation-side look-up is one indexed filter)
and to the installer company it is assigned to; each side sees it only through its own
field. What happened to a job is kept twice: as a timestamp per step on the job (what the
report reads, one row per job) and as ``JobTransition`` rows (who, when, from → to, why).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evdms.accounts.who import who_shown

# --- installer companies --------------------------------------------------------------


class InstallerCompany(models.Model):
    """What makes an organisation of kind *installer* a certified installer.

    Only a platform operator certifies (Django admin or command). A company whose
    certification has lapsed keeps its jobs but gets no new ones.
    """

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="installer_company"
    )
    certified_until = models.DateField(
        _("certified until"),
        null=True,
        blank=True,
        help_text=_("Empty: not certified. After this date no new jobs are assigned."),
    )
    certified_at = models.DateTimeField(null=True, blank=True)
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    capacity = models.PositiveIntegerField(
        _("capacity"),
        default=20,
        validators=[MinValueValidator(1)],
        help_text=_("Open jobs the company takes at once; assignment prefers the least loaded."),
    )
    # The installer's own terms, used when the connection sets no warranty length.
    warranty_months = models.PositiveSmallIntegerField(_("warranty (months)"), default=24)
    # Where "new job" e-mails go; empty: to the company's installer managers.
    jobs_email = models.EmailField(_("e-mail for new jobs"), blank=True)

    class Meta:
        verbose_name = _("installer company")
        verbose_name_plural = _("installer companies")

    def __str__(self) -> str:
        return str(self.organisation)

    def is_certified(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.now().date()
        return self.certified_until is not None and self.certified_until >= on


class InstallerRegion(models.Model):
    """A country, or the postcodes of a country starting with a prefix, that an
    installer serves. Postcode prefixes are kept upper-case without spaces, the form
    addresses are compared in."""

    installer = models.ForeignKey(
        InstallerCompany, on_delete=models.CASCADE, related_name="regions"
    )
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2"))
    postcode_prefix = models.CharField(
        _("postcode prefix"), max_length=10, blank=True, help_text=_("Empty: the whole country.")
    )

    class Meta:
        ordering: ClassVar = ["country", "postcode_prefix"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["installer", "country", "postcode_prefix"], name="installer_region_once"
            ),
            models.CheckConstraint(
                condition=Q(country__regex=r"^[A-Z]{2}$"), name="installer_region_country_iso"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["country", "postcode_prefix"])]

    def __str__(self) -> str:
        return f"{self.country} {self.postcode_prefix or '*'}"


# --- jobs ------------------------------------------------------------------------------


class JobStatus(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned")
    CONTACTED = "contacted", _("Contacted")
    SURVEYED = "surveyed", _("Surveyed")
    QUOTED = "quoted", _("Quoted")
    QUOTE_APPROVED = "quote_approved", _("Quote approved")
    SCHEDULED = "scheduled", _("Scheduled")
    INSTALLED = "installed", _("Installed")
    COMMISSIONED = "commissioned", _("Commissioned")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# In order. A job moves one step forward (a declined quote sends it back to ``surveyed``);
# ``cancelled`` is reachable from every open status.
STATUS_ORDER: tuple[str, ...] = tuple(JobStatus.values[:-1])
OPEN_STATUSES: tuple[str, ...] = STATUS_ORDER[:-1]
ENDED_STATUSES: tuple[str, ...] = (JobStatus.COMPLETED, JobStatus.CANCELLED)


def status_rank() -> models.Case:
    """A job's status as its place in the workflow (assigned 0 … completed 8, cancelled
    last), what a list sorted "by status" follows: the codes' alphabetical order
    (assigned, cancelled, commissioned …) is no order a reader knows, and the labels'
    would change with the reader's language."""
    return models.Case(
        *(models.When(status=value, then=rank) for rank, value in enumerate(JobStatus.values)),
        default=len(JobStatus.values),
        output_field=models.IntegerField(),
    )


class InstallationJob(models.Model):
    """One driver's home charger installation for one connection (at most one per
    driver and connection; Revise Benefits moves an open job to the new connection)."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="installation_jobs"
    )
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, related_name="installation_jobs"
    )
    membership = models.ForeignKey(
        "enrolment.Membership", on_delete=models.PROTECT, related_name="installation_jobs"
    )
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="installation_jobs"
    )
    # Empty while no certified installer serves the address (the operator assigns one).
    installer = models.ForeignKey(
        InstallerCompany,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="jobs",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.ASSIGNED
    )
    # The installation address: the contact details the driver gave when joining,
    # copied so a later change of the membership does not move a surveyed job.
    address = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    phone = models.CharField(max_length=30, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    # When the job entered its current status: "days in status" and "overdue".
    status_changed_at = models.DateTimeField(default=timezone.now)
    # The first time each step was reached (kept when a quote is declined and redone).
    assigned_at = models.DateTimeField(null=True, blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True)
    surveyed_at = models.DateTimeField(null=True, blank=True)
    quoted_at = models.DateTimeField(null=True, blank=True)
    quote_approved_at = models.DateTimeField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    commissioned_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)

    survey_notes = models.TextField(blank=True)
    appointment_at = models.DateTimeField(null=True, blank=True)
    # The driver may ask once to move the appointment.
    appointment_move_requested_at = models.DateTimeField(null=True, blank=True)
    appointment_move_note = models.CharField(max_length=500, blank=True)

    # Recorded at "installed"; the charger is registered with this serial and linked to
    # the driver, and its first accepted BootNotification commissions the job.
    charger = models.OneToOneField(
        "charging.Charger",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="installation_job",
    )
    charger_serial = models.CharField(max_length=50, blank=True)
    charger_vendor = models.CharField(max_length=50, blank=True)
    charger_model = models.CharField(max_length=50, blank=True)
    mid_certificate = models.CharField(_("MID certificate number"), max_length=60, blank=True)

    # With Home warranty and labour: from commissioning, for this many months.
    warranty_months = models.PositiveSmallIntegerField(null=True, blank=True)
    warranty_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["driver", "connection"], name="job_once_per_driver"),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="job_status_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""),
                name="job_cancelled_has_reason",
            ),
        ]
        indexes: ClassVar = [
            # The report: an organisation's jobs by status, newest first.
            models.Index(fields=["organisation", "status", "-created_at", "-id"]),
            models.Index(fields=["organisation", "-created_at", "-id"]),
            # The installer portal and assignment by load.
            models.Index(fields=["installer", "status"]),
            # The report: its installer filter and choices, "days in status" (sorting)
            # and "overdue" (open statuses, changed before a day).
            models.Index(fields=["organisation", "installer"]),
            models.Index(fields=["organisation", "status_changed_at"]),
            models.Index(fields=["organisation", "status", "status_changed_at"]),
        ]

    def __str__(self) -> str:
        return f"Installation for {self.driver} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TransitionNote(StrEnum):
    """A note the platform writes on a job's history: kept as a code with its
    parameters (``JobTransition.note_params``), read in each reader's language."""

    ASSIGNED = "assigned"  # installer: the company's name
    NO_INSTALLER = "no_installer"
    NO_APPROVAL_NEEDED = "no_approval_needed"
    # by: "organisation" or "driver"; number: the quote's. The reason is the ``note``.
    QUOTE_DECLINED = "quote_declined"


# Notes of rows from before the codes, in the English the product wrote then.
_OLD_ASSIGNED = re.compile(r"Assigned to (.+)", re.S)
_OLD_NO_INSTALLER = "No certified installer serves this address yet"
_OLD_NO_APPROVAL_NEEDED = "No approval needed under the connection's terms."
_OLD_DECLINED = re.compile(r"The (organisation|driver) declined quote (\S+): (.*)", re.S)


class JobTransition(models.Model):
    """One change of a job's status: the history the report and API show."""

    job = models.ForeignKey(InstallationJob, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, blank=True)  # "" for the creation
    to_status = models.CharField(max_length=20)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who acted (``evdms.accounts.who``): an e-mail address, or a code read in each
    # reader's language ("api_key:…", "approval_link:…", "charger:…", "platform").
    by_label = models.CharField(max_length=300)
    # What a person wrote (why a job is cancelled, why a quote is declined), as written.
    note = models.CharField(max_length=500, blank=True)
    # What the platform says about the step, if anything; its words come from the code.
    note_code = models.CharField(max_length=30, blank=True)  # a TransitionNote
    note_params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering: ClassVar = ["at", "id"]
        indexes: ClassVar = [models.Index(fields=["job", "at"])]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"

    @property
    def by_shown(self) -> str:
        """Who acted, in the active language."""
        return who_shown(self.by_label)

    @property
    def note_shown(self) -> str:
        """The note in the active language: the platform's words translated, a
        person's as written."""
        code, params, note = self.note_code, self.note_params or {}, self.note
        if not code:
            code, params, note = self._old_note()
        if code == TransitionNote.ASSIGNED:
            return gettext("Assigned to %(installer)s") % {"installer": params.get("installer")}
        if code == TransitionNote.NO_INSTALLER:
            return gettext("No certified installer serves this address yet")
        if code == TransitionNote.NO_APPROVAL_NEEDED:
            return gettext("No approval needed under the connection's terms.")
        if code == TransitionNote.QUOTE_DECLINED:
            values = {"number": params.get("number"), "reason": note}
            if params.get("by") == "driver":
                return gettext("The driver declined quote %(number)s: %(reason)s") % values
            return gettext("The organisation declined quote %(number)s: %(reason)s") % values
        return note

    def _old_note(self) -> tuple[str, dict[str, str], str]:
        """The code, parameters and person's words of a note kept in English, by the
        step it was written for (a person's words on another step stay as written)."""
        note = self.note
        if not self.from_status:
            if note == _OLD_NO_INSTALLER:
                return TransitionNote.NO_INSTALLER, {}, ""
            assigned = _OLD_ASSIGNED.fullmatch(note)
            if assigned:
                return TransitionNote.ASSIGNED, {"installer": assigned.group(1)}, ""
        if self.to_status == JobStatus.QUOTE_APPROVED and note == _OLD_NO_APPROVAL_NEEDED:
            return TransitionNote.NO_APPROVAL_NEEDED, {}, ""
        declined = _OLD_DECLINED.fullmatch(note) if self.to_status == JobStatus.SURVEYED else None
        if declined:
            by, number, reason = declined.groups()
            return TransitionNote.QUOTE_DECLINED, {"by": by, "number": number}, reason
        return "", {}, note


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")
    VISIT = "visit", _("Visit")


class ContactOutcome(models.TextChoices):
    REACHED = "reached", _("Reached the driver")
    NO_ANSWER = "no_answer", _("No answer")
    LEFT_MESSAGE = "left_message", _("Left a message")
    WRONG_DETAILS = "wrong_details", _("Wrong contact details")


class ContactAttempt(models.Model):
    job = models.ForeignKey(InstallationJob, on_delete=models.CASCADE, related_name="contacts")
    at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    outcome = models.CharField(max_length=20, choices=ContactOutcome.choices)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_outcome_display()}"


class DocumentKind(models.TextChoices):
    SURVEY_PHOTO = "survey_photo", _("Survey photo")
    DRIVER_PHOTO = "driver_photo", _("Photo from the driver")
    DECLARATION = "declaration", _("Installer declaration")


class JobDocument(models.Model):
    """A file of a job, kept in the database (as connection logos are), so every web
    process serves it and a backup holds it. Photos are stored re-encoded (no EXIF, no
    GPS); declarations as the PDF uploaded, after its content was checked."""

    job = models.ForeignKey(InstallationJob, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    filename = models.CharField(max_length=150)
    content_type = models.CharField(max_length=50)
    content = models.BinaryField(editable=False)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["uploaded_at", "id"]
        indexes: ClassVar = [models.Index(fields=["job", "kind"])]

    def __str__(self) -> str:
        return self.filename


# --- quotes ----------------------------------------------------------------------------


# Amounts are whole cents; "adds up" is checked to within half a cent (see below).
HALF_CENT = Decimal("0.005")


class QuoteStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    # The job was cancelled, or a newer quote replaced this one before a decision.
    WITHDRAWN = "withdrawn", _("Withdrawn")


class PartApproval(models.TextChoices):
    """One payer's decision on their part of a quote."""

    NOT_NEEDED = "not_needed", _("Not needed")  # nothing to pay, or nothing to decide
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class LineKind(models.TextChoices):
    STANDARD_PACKAGE = "standard_package", _("Standard package")
    EXTRA = "extra", _("Extra")
    # Asked for by the driver beyond what the installation needs: the driver's in every
    # payment model.
    DRIVER_EXTRA = "driver_extra", _("Extra the driver asked for")


class Quote(models.Model):
    """A quote the installer submits for a job. Amounts are Decimal in the connection's
    organisation's currency; the totals and each payer's share are computed once, at
    submission, by ``installations.payer_split`` and stored, so what was approved never
    changes with a later rule or connection change."""

    job = models.ForeignKey(InstallationJob, on_delete=models.CASCADE, related_name="quotes")
    number = models.PositiveSmallIntegerField()  # 1, 2… within the job
    status = models.CharField(
        max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.AWAITING_APPROVAL
    )
    payment_model = models.CharField(max_length=30)  # the connection's, at submission
    currency = models.CharField(max_length=3)
    total_excl_vat = models.DecimalField(max_digits=12, decimal_places=2)
    total_vat = models.DecimalField(max_digits=12, decimal_places=2)
    total_incl_vat = models.DecimalField(max_digits=12, decimal_places=2)
    # Incl. VAT; organisation_share + driver_share == total_incl_vat (a constraint).
    organisation_share = models.DecimalField(max_digits=12, decimal_places=2)
    driver_share = models.DecimalField(max_digits=12, decimal_places=2)
    organisation_approval = models.CharField(
        max_length=12, choices=PartApproval.choices, default=PartApproval.PENDING
    )
    organisation_decided_at = models.DateTimeField(null=True, blank=True)
    # Who decided (evdms.accounts.who): shown by ``organisation_decided_by_shown``.
    organisation_decided_by = models.CharField(max_length=300, blank=True)
    driver_approval = models.CharField(
        max_length=12, choices=PartApproval.choices, default=PartApproval.PENDING
    )
    driver_decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["job", "number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["job", "number"], name="quote_number_once_per_job"),
            # To the cent: SQLite adds decimals as floating point (1285.63 + 120.99 is
            # 1406.6200000000001 there), so an exact equality refuses a right quote.
            models.CheckConstraint(
                condition=Q(
                    total_incl_vat__gt=models.F("organisation_share")
                    + models.F("driver_share")
                    - HALF_CENT,
                    total_incl_vat__lt=models.F("organisation_share")
                    + models.F("driver_share")
                    + HALF_CENT,
                ),
                name="quote_shares_add_up",
            ),
            models.CheckConstraint(
                condition=Q(organisation_share__gte=Decimal(0), driver_share__gte=Decimal(0)),
                name="quote_shares_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Quote {self.number} for job {self.job_id}"

    @property
    def organisation_decided_by_shown(self) -> str:
        return who_shown(self.organisation_decided_by)

    @property
    def payment_model_label(self) -> str:
        """The payment model's name, as the connection form shows it."""
        from evdms.connections.models import InstallationPaymentModel

        try:
            return str(InstallationPaymentModel(self.payment_model).label)
        except ValueError:
            return self.payment_model


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=LineKind.choices)
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=8, decimal_places=2)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)  # excl. VAT
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)  # percent, e.g. 21.00
    total_excl_vat = models.DecimalField(max_digits=12, decimal_places=2)
    vat = models.DecimalField(max_digits=12, decimal_places=2)
    total_incl_vat = models.DecimalField(max_digits=12, decimal_places=2)
    # Incl. VAT, adding up to total_incl_vat.
    organisation_part = models.DecimalField(max_digits=12, decimal_places=2)
    driver_part = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering: ClassVar = ["quote", "position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["quote", "position"], name="quote_line_position_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=Decimal(0), unit_price__gte=Decimal(0)),
                name="quote_line_positive",
            ),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=Decimal(0), vat_rate__lte=Decimal(100)),
                name="quote_line_vat_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(
                    total_incl_vat__gt=models.F("organisation_part")
                    + models.F("driver_part")
                    - HALF_CENT,
                    total_incl_vat__lt=models.F("organisation_part")
                    + models.F("driver_part")
                    + HALF_CENT,
                ),
                name="quote_line_parts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class QuoteApprovalLink(models.Model):
    """The signed, expiring, single-use link e-mailed to the Customer Support Email for
    the organisation's part of a quote. Only the token's keyed hash is kept."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="approval_links")
    token_hash = models.CharField(max_length=64, unique=True)
    recipient = models.EmailField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=12, blank=True)  # approved / declined

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"Approval link for {self.quote} to {self.recipient}"
