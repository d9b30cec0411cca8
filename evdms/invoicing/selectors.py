"""Reads of invoicing that the run, pages and API share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from evdms.invoicing.models import FeeSchedule


def fee_schedules_in_force(organisation_ids: Iterable[int], month: date) -> dict[int, FeeSchedule]:
    """Each organisation's fee schedule in force for ``month`` (the latest whose
    ``valid_from`` is on or before its first day); organisations without one are absent.
    One query, whatever the number of organisations."""
    first = month.replace(day=1)
    in_force: dict[int, FeeSchedule] = {}
    rows = FeeSchedule.objects.filter(
        organisation_id__in=list(organisation_ids), valid_from__lte=first
    ).order_by("organisation_id", "-valid_from")
    for schedule in rows:
        in_force.setdefault(schedule.organisation_id, schedule)
    return in_force
