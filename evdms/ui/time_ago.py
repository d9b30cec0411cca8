"""How long ago something happened, as a whole phrase in the reader's language.

Not Django's ``timesince`` inside our own "… ago" sentence: ``timesince`` gives the
nominative ("2 Tage"), and German needs the dative after "vor" ("vor 2 Tagen"); nor
humanize's ``naturaltime``, whose German "naturaltime-past" strings keep the nominative
for days, months and years ("vor 2 Tage"). Each language writes the whole phrase here,
number and unit and word order, so none has to build it from pieces.

One unit, the largest that fits ("2 days ago", not "2 days, 3 hours ago").
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import npgettext, pgettext

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = 30 * DAY
YEAR = 365 * DAY


def _years(n: int) -> str:
    return npgettext("time ago", "%(num)d year ago", "%(num)d years ago", n) % {"num": n}


def _months(n: int) -> str:
    return npgettext("time ago", "%(num)d month ago", "%(num)d months ago", n) % {"num": n}


def _weeks(n: int) -> str:
    return npgettext("time ago", "%(num)d week ago", "%(num)d weeks ago", n) % {"num": n}


def _days(n: int) -> str:
    return npgettext("time ago", "%(num)d day ago", "%(num)d days ago", n) % {"num": n}


def _hours(n: int) -> str:
    return npgettext("time ago", "%(num)d hour ago", "%(num)d hours ago", n) % {"num": n}


def _minutes(n: int) -> str:
    return npgettext("time ago", "%(num)d minute ago", "%(num)d minutes ago", n) % {"num": n}


UNITS = ((YEAR, _years), (MONTH, _months), (WEEK, _weeks), (DAY, _days), (HOUR, _hours))


def time_ago(moment: datetime | None, now: datetime | None = None) -> str:
    """E.g. "2 days ago"; "vor 2 Tagen", "2 dagen geleden", "il y a 2 jours". A moment
    in the future (a clock a little ahead) reads as now."""
    if moment is None:
        return ""
    seconds = int(((now or timezone.now()) - moment).total_seconds())
    for size, phrase in UNITS:
        if seconds >= size:
            return phrase(seconds // size)
    if seconds >= MINUTE:
        return _minutes(seconds // MINUTE)
    return pgettext("time ago", "just now")
