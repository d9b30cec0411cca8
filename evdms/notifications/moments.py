"""A moment as an e-mail states it: one time, in the organisation's time zone, with the
zone named, so a reader abroad (or a record kept for years) is never left guessing."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from evdms.accounts.models import Organisation


def organisation_time_zone(organisation: Organisation | None) -> tzinfo:
    """The time zone an organisation's e-mails and records use. Organisations have no
    zone of their own yet: every one runs on the platform's (EVDMS_TIME_ZONE); this is
    the one place to change when they do."""
    return ZoneInfo(settings.TIME_ZONE)


def moment_text(moment: datetime, organisation: Organisation | None = None) -> str:
    """E.g. "1 December 2026 10:30 CET (Europe/Amsterdam)"."""
    zone = organisation_time_zone(organisation)
    local = timezone.localtime(moment, zone)
    name = getattr(zone, "key", str(zone))
    return f"{local.day} {local:%B %Y %H:%M} {local.tzname()} ({name})"
