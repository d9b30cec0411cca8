"""Asking for an installation report export made in the worker."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from evdms.accounts.permissions import Actor, Permission, require
from evdms.installations.tasks import REPORT, installation_export_run
from evdms.reports.export_scope import scope_of
from evdms.reports.models import ReportExport
from evdms.reports.services import EXPORT_KEPT, report_exports_purge


@transaction.atomic
def installation_export_request(
    *, actor: Actor, format: str, params: dict[str, str], rows_total: int
) -> ReportExport:
    """Queue the export of the report filtered by ``params`` (a parsed query's own
    params, so the worker reads exactly what the admin saw)."""
    require(actor, Permission.VIEW_INSTALLATIONS)
    report_exports_purge()
    now = timezone.now()
    export = ReportExport.objects.create(
        organisation=actor.organisation,
        role=actor.role,
        requested_by=actor.user,
        requested_by_label=actor.label_code,
        requested_by_key=actor.api_key,
        scope=scope_of(actor, Permission.VIEW_INSTALLATIONS),
        report=REPORT,
        format=format,
        params=params,
        rows_total=rows_total,
        created_at=now,
        updated_at=now,
        expires_at=now + EXPORT_KEPT,
    )
    transaction.on_commit(lambda: installation_export_run.enqueue(export_id=export.pk))
    return export
