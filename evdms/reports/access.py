"""Tenant-scoped look-ups of report exports: an export is for the organisation that
asked for it only (not for organisations acting through a grant)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from evdms.accounts.permissions import Actor
from evdms.reports.models import ReportExport


def exports_for(actor: Actor) -> QuerySet[ReportExport]:
    return ReportExport.objects.filter(
        organisation=actor.organisation, expires_at__gt=timezone.now()
    )


def get_export_for(actor: Actor, export_id: int) -> ReportExport:
    return get_object_or_404(exports_for(actor), pk=export_id)
