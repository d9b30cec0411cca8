"""Tenant-scoped look-ups of report exports: an export is for the organisation that
asked for it only (not for organisations acting through a grant), and for those of its
admins whose scope holds the export's (``evdms.reports.export_scope``). Any other is a
404, exactly like a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from evdms.accounts.permissions import Actor, Permission
from evdms.reports.export_scope import visible_to
from evdms.reports.models import ReportExport


def exports_for(actor: Actor, report: str = "transactions") -> QuerySet[ReportExport]:
    """The organisation's exports of ``report`` not yet expired; what each admin may see
    of them is ``visible_exports``. (The installation report keeps its exports in the
    same table, for roles that may not read this one: evdms/installations.)"""
    return ReportExport.objects.filter(
        organisation=actor.organisation, report=report, expires_at__gt=timezone.now()
    )


def visible_exports(
    actor: Actor, permission: Permission, report: str = "transactions", limit: int = 5
) -> list[ReportExport]:
    """The newest exports the actor may see (a few: the page lists the last ones)."""
    rows = exports_for(actor, report).select_related("requested_by").order_by("-created_at")
    return [e for e in rows[: limit * 4] if visible_to(actor, e, permission)][:limit]


def get_export_for(
    actor: Actor,
    export_id: int,
    permission: Permission = Permission.VIEW_REPORTS,
    report: str = "transactions",
) -> ReportExport:
    export = exports_for(actor, report).select_related("requested_by").filter(pk=export_id).first()
    if export is None or not visible_to(actor, export, permission):
        raise Http404
    return export
