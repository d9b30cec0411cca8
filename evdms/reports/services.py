"""Writes of the reports area: asking for an export made in the worker."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from evdms.accounts.permissions import Actor, Permission, require
from evdms.reports.export_scope import scope_of
from evdms.reports.models import ReportExport
from evdms.reports.tasks import report_export_run

# How long a finished export can be downloaded; then its file is deleted.
EXPORT_KEPT = timedelta(days=7)


@transaction.atomic
def report_export_request(
    *, actor: Actor, format: str, params: dict[str, str], rows_total: int
) -> ReportExport:
    """Queue the export of the report filtered by ``params`` (a parsed query's own
    params, so the worker reads exactly what the admin saw)."""
    require(actor, Permission.VIEW_REPORTS)
    report_exports_purge()
    now = timezone.now()
    export = ReportExport.objects.create(
        organisation=actor.organisation,
        role=actor.role,
        requested_by=actor.user,
        requested_by_label=actor.label_code,
        requested_by_key=actor.api_key,
        scope=scope_of(actor, Permission.VIEW_REPORTS),
        format=format,
        params=params,
        rows_total=rows_total,
        created_at=now,
        updated_at=now,
        expires_at=now + EXPORT_KEPT,
    )
    transaction.on_commit(lambda: report_export_run.enqueue(export_id=export.pk))
    return export


def report_exports_purge() -> int:
    """Delete expired exports with their files. Runs whenever an export is asked for, so
    old files go without a scheduler; ``manage.py purge_report_exports`` does the same."""
    deleted, _ = ReportExport.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
