"""A moment as an e-mail states it: one time, in the organisation's time zone, with the
zone named, so a reader abroad (or a record kept for years) is never left guessing."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from django.utils import timezone

from evdms.accounts.models import Organisation
from evdms.ui.language import organisation_time_zone as zone_name


def organisation_time_zone(organisation: Organisation | None) -> tzinfo:
    """The time zone an organisation's e-mails and records use: its own (Settings
    page), else the platform's (EVDMS_TIME_ZONE)."""
    return ZoneInfo(zone_name(organisation))


def moment_text(moment: datetime, organisation: Organisation | None = None) -> str:
    """E.g. "1 December 2026 10:30 CET (Europe/Amsterdam)"."""
    zone = organisation_time_zone(organisation)
    local = timezone.localtime(moment, zone)
    name = getattr(zone, "key", str(zone))
    return f"{local.day} {local:%B %Y %H:%M} {local.tzname()} ({name})"
