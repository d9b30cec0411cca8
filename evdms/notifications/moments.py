"""A moment as an e-mail states it: one time, in the organisation's time zone, with the
zone named, so a reader abroad (or a record kept for years) is never left guessing."""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone
from django.utils.functional import lazy
from django.utils.translation import pgettext

from evdms.accounts.models import Organisation
from evdms.ui.language import organisation_time_zone as zone_name


def organisation_time_zone(organisation: Organisation | None) -> tzinfo:
    """The time zone an organisation's e-mails and records use: its own (Settings
    page), else the platform's (EVDMS_TIME_ZONE)."""
    return ZoneInfo(zone_name(organisation))


def _moment_text(moment: datetime, organisation: Organisation | None = None) -> str:
    zone = organisation_time_zone(organisation)
    local = timezone.localtime(moment, zone)
    name = getattr(zone, "key", str(zone))
    # Translators: a date and time in an e-mail, in Django's date format codes
    # (j day, F month name, Y year, H:i hours and minutes); the zone follows it.
    when = dateformat.format(local, pgettext("date and time in an e-mail", "j F Y H:i"))
    return f"{when} {local.tzname()} ({name})"


_lazy_moment_text = lazy(_moment_text, str)


def moment_text(moment: datetime, organisation: Organisation | None = None) -> str:
    """E.g. "1 December 2026 10:30 CET (Europe/Amsterdam)"; "1. Dezember 2026 10:30 CET
    (Europe/Amsterdam)" in an e-mail in German.

    Lazy: the text is written when the e-mail is (``email_render``), so in its
    recipient's language, not in that of whoever caused it (an admin on their page)."""
    return _lazy_moment_text(moment, organisation)
