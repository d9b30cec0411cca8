"""The time zones an organisation can pick. Apart from :mod:`evdms.ui.language` because
the organisation model validates with it, and that module reads organisations."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone of the form Region/City, sorted: what an organisation picks."""
    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and z[0].isupper())
    return [(zone, zone.replace("_", " ")) for zone in zones if not zone.startswith("Etc/")]


def validate_time_zone(value: str) -> None:
    if value not in dict(time_zone_choices()):
        raise ValidationError(_("Choose a time zone from the list."), code="invalid")
