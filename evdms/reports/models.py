"""Report exports made in the worker, kept for a while for the organisation that asked.

The file is kept in the database in chunks: web and worker share only the database, so
whichever web process answers the download reads the same bytes, and neither writing
nor reading ever holds the whole file in memory.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from evdms.accounts.who import who_shown


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", _("Excel (XLSX)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Being made")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ReportExport(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="report_exports"
    )
    # The role the export was asked with: the worker reads exactly what that admin could.
    role = models.CharField(max_length=30)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who asked (evdms.accounts.who): an e-mail address, or a code such as an API key's.
    requested_by_label = models.CharField(max_length=200, blank=True)
    requested_by_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the requester reached when asking (evdms.reports.export_scope): the worker
    # makes it, and a download hands it over, only while they still reach all of it.
    scope = models.JSONField(default=dict, blank=True)
    report = models.CharField(max_length=30, default="transactions")
    format = models.CharField(max_length=4, choices=ExportFormat.choices)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.report} export {self.pk} ({self.status})"

    @property
    def requested_by_shown(self) -> str:
        return who_shown(self.requested_by_label)

    @property
    def filename(self) -> str:
        return f"{self.report.replace('_', '-')}-{self.created_at:%Y%m%d-%H%M}.{self.format}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)


class ReportExportChunk(models.Model):
    export = models.ForeignKey(ReportExport, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering: ClassVar = ["index"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["export", "index"], name="export_chunk_once")
        ]

    def __str__(self) -> str:
        return f"{self.export_id}#{self.index}"


class MonthlyKind(models.TextChoices):
    HOME = "home", pgettext_lazy("transaction type", "Home")
    PUBLIC = "public", pgettext_lazy("transaction type", "Public")


class MonthlyFigures(models.Model):
    """A connection's charging in one month (local time), home or public, per currency:
    what the dashboard shows, kept so that it reads a few hundred rows instead of every
    session. Written only by the database triggers of ``evdms.reports.monthly`` in the
    same transaction as the session or statement that changes it; rebuilt from those
    sources by ``manage.py rebuild_monthly_figures``.

    - sessions, energy_wh: completed sessions that started in the month (credited and
      active ones count nowhere, as everywhere else);
    - cost_e4: what the organisation pays, in ten-thousandths of the currency: for home
      charging the month's reimbursement statements, for public charging the operators'
      prices incl. VAT of the business sessions. Integers, so that adding and taking off
      in any order gives exactly what a rebuild gives, on SQLite (whose decimals are
      floats) too.
    """

    # No database constraint: the triggers write here while sessions are deleted (a
    # connection's last ones before it goes, a test database's flush), and a row of a
    # connection gone is never read and goes at the next rebuild.
    connection = models.ForeignKey(
        "connections.Connection",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    month = models.DateField(help_text=_("the first day of the month, local time"))
    kind = models.CharField(max_length=6, choices=MonthlyKind.choices)
    currency = models.CharField(max_length=3, blank=True)
    sessions = models.BigIntegerField(default=0)
    energy_wh = models.BigIntegerField(default=0)
    statements = models.BigIntegerField(default=0)
    cost_e4 = models.BigIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            # The key the triggers' upserts land on.
            models.UniqueConstraint(
                fields=["connection", "month", "kind", "currency"], name="monthly_figures_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.month:%Y-%m} {self.kind} {self.currency}"


class DriverFigures(models.Model):
    """How many memberships a connection has in each status: the dashboard's drivers
    (connected, pending) read from at most connections × statuses rows instead of
    counting every membership. Written only by the database triggers of
    ``evdms.reports.monthly`` in the membership writer's transaction; rebuilt with the
    monthly figures."""

    # No database constraint, as for MonthlyFigures: the triggers write here while
    # memberships go (a test database's flush).
    connection = models.ForeignKey(
        "connections.Connection",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    status = models.CharField(max_length=16)
    drivers = models.BigIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            # The key the triggers' upserts land on.
            models.UniqueConstraint(fields=["connection", "status"], name="driver_figures_key")
        ]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.status}: {self.drivers}"
