"""Tenant-scoped look-ups of report exports: an export is for the organisation that
asked for it only (not for organisations acting through a grant)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from evdms.accounts.permissions import Actor
from evdms.reports.models import ReportExport


def exports_for(actor: Actor) -> QuerySet[ReportExport]:
    # The transaction report's own: the installation report keeps its exports in the
    # same table, for roles that may not read this one (evdms/installations).
    return ReportExport.objects.filter(
        organisation=actor.organisation, report="transactions", expires_at__gt=timezone.now()
    )


def get_export_for(actor: Actor, export_id: int) -> ReportExport:
    return get_object_or_404(exports_for(actor), pk=export_id)
