"""Home chargers and the sessions they report over OCPP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from evdms.charging.bounds import SESSION_WH_STORABLE
from evdms.charging.flags import flag_text, flags_split, flags_text

# What a reading measures unless it says otherwise: the meter's register of energy
# delivered to the car, under the name chargers report it by.
ENERGY_REGISTER = "Energy.Active.Import.Register"


class Charger(models.Model):
    """A home charger, registered by its OCPP identity, linked to one driver."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="chargers"
    )
    identity = models.CharField(max_length=48, unique=True)  # OCPP's charge point id limit
    serial = models.CharField(max_length=50)
    vendor = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=50, blank=True)
    firmware = models.CharField(max_length=50, blank=True)
    password_hash = models.CharField(max_length=200)
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="chargers",
    )
    protocol = models.CharField(max_length=10, blank=True)
    online = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    connector_status = models.JSONField(default=dict, blank=True)
    # Counts the connections the gateways accepted: the newest one holds the current
    # value, and what an older one sends is no longer stored (a charger that moved to
    # another gateway process while its old socket was still open there).
    connection_epoch = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["identity"]

    def __str__(self) -> str:
        return self.identity


class SessionStatus(models.TextChoices):
    ACTIVE = "active", _("Charging")
    COMPLETED = "completed", _("Completed")
    # A public session its operator cancelled with a credit record: kept, shown as
    # such, counted nowhere (reports, invoices).
    CREDITED = "credited", _("Credited")


class SessionKind(models.TextChoices):
    """Where the car charged. A home session is reimbursed to the driver; a public one
    (a roaming partner's record) is paid by the organisation when it is business."""

    # "Home" alone is the start page (the navigation, the admin's breadcrumbs).
    HOME = "home", pgettext_lazy("where the car charged", "Home")
    PUBLIC = "public", _("Public")


class SessionPurpose(models.TextChoices):
    """A public session's purpose, the driver's to mark: the organisation pays business
    sessions only; personal ones the driver settles."""

    BUSINESS = "business", _("Business")
    PERSONAL = "personal", _("Personal")


class SessionReview(models.TextChoices):
    """Whether a person must look at a session before it is reimbursed. Most flags only
    inform; a flag about energy or time beyond what a home charger can do also holds the
    session (``PENDING``) until an admin accepts or rejects it."""

    NOT_NEEDED = "", _("Not needed")
    PENDING = "pending", _("Awaiting review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class ChargingSession(models.Model):
    """One charging session: at home (a charger of ours over OCPP, or a roaming partner's
    record of the driver's home charging) or public (a roaming partner's record). The
    unique keys make retransmitted or late messages land on the same row: a session is
    never created twice."""

    # The organisation whose driver charged: the charger's, or the organisation of the
    # token's membership for a partner's record. Every tenant-scoped read starts here.
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=6, choices=SessionKind.choices, default=SessionKind.HOME)
    # Our charger, for sessions it reported; none for a partner's record.
    charger = models.ForeignKey(
        Charger, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    # Who and under which connection, as they were when the session started.
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    connection = models.ForeignKey(
        "connections.Connection", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # OCPP 2.0.1: the charger's transactionId. OCPP 1.6: our id, handed out at Start.
    transaction_id = models.CharField(max_length=36)
    # OCPP 1.6 start fingerprint (connector, timestamp, meterStart): a repeated
    # StartTransaction gets the transaction id it got the first time.
    start_key = models.CharField(max_length=120, blank=True)
    connector_id = models.PositiveIntegerField(default=1)
    id_tag = models.CharField(max_length=36, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    meter_start_wh = models.BigIntegerField(null=True, blank=True)
    meter_stop_wh = models.BigIntegerField(null=True, blank=True)
    energy_wh = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default="active")
    stop_reason = models.CharField(max_length=30, blank=True)
    last_seq_no = models.IntegerField(null=True, blank=True)
    # Why a person should look at this session (unknown transaction, decreasing meter…).
    flags = models.JSONField(default=list, blank=True)
    review = models.CharField(
        max_length=10, choices=SessionReview.choices, default=SessionReview.NOT_NEEDED, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    signed_meter_data = models.TextField(blank=True)  # OCMF, kept verbatim
    # --- a roaming partner's record (public charging, or home charging it reports) ---
    # The partner's key for the session, unique across partners: see
    # ``services.sessions.public_session_record``. Empty for our chargers' sessions.
    public_key = models.CharField(max_length=100, blank=True)
    operator = models.CharField(max_length=100, blank=True)  # who runs the charge point
    location_name = models.CharField(max_length=255, blank=True)
    location_address = models.CharField(max_length=255, blank=True)  # street, city, country
    # The partner's price of the session (VAT kept both ways), in ``currency``.
    cost_excl_vat = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    cost_incl_vat = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)  # ISO 4217
    # Public sessions only: business (the organisation pays) or personal (the driver).
    purpose = models.CharField(max_length=8, choices=SessionPurpose.choices, blank=True)
    # The month's invoice that takes the session holds it in a line (its
    # ``invoice_line``): the purpose is fixed from then on. No mark is written on the
    # session: an UPDATE of every public session of the month was most of the invoice
    # run's time on PostgreSQL.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-started_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["public_key"], condition=~Q(public_key=""), name="session_unique_public"
            ),
            # Our chargers' sessions are home sessions; a public one has a partner's key.
            models.CheckConstraint(
                condition=Q(charger__isnull=True, kind="public") | Q(kind="home"),
                name="session_public_without_charger",
            ),
            # A session is ours (a charger) or a partner's (its key), never neither.
            models.CheckConstraint(
                condition=Q(charger__isnull=False) | ~Q(public_key=""),
                name="session_has_a_source",
            ),
            models.UniqueConstraint(
                fields=["charger", "transaction_id"], name="session_unique_transaction"
            ),
            models.UniqueConstraint(
                fields=["charger", "start_key"],
                condition=~Q(start_key=""),
                name="session_unique_start",
            ),
            # Whatever a charger says, a session's energy fits a statement line's amount.
            models.CheckConstraint(
                condition=Q(energy_wh__gte=0, energy_wh__lte=SESSION_WH_STORABLE),
                name="session_energy_in_range",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["driver", "started_at"]),
            # The transaction report (sessions of the connections in view, by time) and the
            # dashboard's monthly energy, read from the index alone.
            models.Index(
                fields=["connection", "started_at", "status", "energy_wh"],
                name="session_connection_time",
            ),
            models.Index(fields=["started_at"]),
            models.Index(fields=["organisation", "kind", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.charger or self.operator} {self.transaction_id}"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at and self.ended_at:
            return self.ended_at - self.started_at
        return None

    @property
    def flags_shown(self) -> str:
        """The flags in the reader's language (``flags`` keeps the core's phrases)."""
        return flags_text(self.flags or [])

    @staticmethod
    def audit_value_shown(name: str, value: Any) -> str | None:
        """A session's recorded flags and hold reason in the reader's language (the
        audit row keeps the core's phrases, as ``flags`` does); None for other values."""
        if name == "flags" and value and isinstance(value, str | list):
            # A list since reviews keep one; a "; "-joined text in older rows.
            flags = flags_split(value) if isinstance(value, str) else [str(f) for f in value]
            return flags_text(flags)
        if name == "reason" and value and isinstance(value, str):
            return flag_text(value)
        return None


class MeterReading(models.Model):
    """An energy register reading during a session (Wh, integer)."""

    session = models.ForeignKey(ChargingSession, on_delete=models.CASCADE, related_name="readings")
    at = models.DateTimeField()
    measurand = models.CharField(max_length=60, default=ENERGY_REGISTER)
    value_wh = models.BigIntegerField()

    class Meta:
        constraints: ClassVar = [
            # A retransmitted MeterValues message adds nothing.
            models.UniqueConstraint(
                fields=["session", "at", "measurand"], name="reading_unique_per_time"
            )
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.at} {self.value_wh} Wh"


# The kind of the row that counts a charger's issues over its hourly limit.
ISSUES_OVER_LIMIT = "Over the hourly limit"


class ProtocolIssue(models.Model):
    """A message we could not accept as it was, kept for people to look at: an excerpt of
    it, for ``settings.PROTOCOL_ISSUE_DAYS``. A charger sending junk keeps at most
    ``settings.PROTOCOL_ISSUES_PER_CHARGER_HOUR`` rows an hour; one more row (kind
    ``ISSUES_OVER_LIMIT``, at the start of the hour) counts the others of that hour."""

    charger = models.ForeignKey(
        Charger, null=True, blank=True, on_delete=models.CASCADE, related_name="issues"
    )
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=60)
    detail = models.TextField(blank=True)
    raw = models.TextField(blank=True)
    occurrences = models.PositiveIntegerField(
        default=1,
        help_text=_("Issues this row stands for: more than one on an hour's summary"),
    )

    class Meta:
        ordering: ClassVar = ["-at"]
        constraints: ClassVar = [
            # Two gateways at a charger's limit at once still count into one row.
            models.UniqueConstraint(
                fields=["charger", "at"],
                condition=Q(kind=ISSUES_OVER_LIMIT),
                name="protocol_issue_one_summary_per_hour",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["charger", "at"]),  # the hourly limit
            models.Index(fields=["at"]),  # the retention purge
        ]

    def __str__(self) -> str:
        return f"{self.charger} {self.kind}"
