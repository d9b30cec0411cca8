"""Protocol issues: what chargers sent that the gateway could not accept, kept for
people to look at, in bounded space whatever a charger sends.

Each row keeps an excerpt, never the whole frame; a charger keeps at most
``settings.PROTOCOL_ISSUES_PER_CHARGER_HOUR`` rows an hour, the rest of the hour are
counted on one summary row; rows older than ``settings.PROTOCOL_ISSUE_DAYS`` are purged
daily by the scheduler (``purge_protocol_issues``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from evdms.charging.models import ISSUES_OVER_LIMIT, ProtocolIssue

EXCERPT_CHARS = 500


def excerpt(text: str | bytes, limit: int = EXCERPT_CHARS) -> str:
    """The start of ``text``, enough to recognise what a charger sent, in at most
    ``limit`` characters (an excerpt of an excerpt is the same excerpt)."""
    size = len(text)
    if size <= limit:
        return text.decode("utf-8", "backslashreplace") if isinstance(text, bytes) else text
    unit = "bytes" if isinstance(text, bytes) else "characters"  # a binary frame, or text
    suffix = f"… ({size} {unit} in all)"
    start = text[: max(limit - len(suffix), 0)]
    return (start.decode("utf-8", "ignore") if isinstance(start, bytes) else start) + suffix


def protocol_issue(charger_id: int | None, kind: str, detail: str = "", raw: str = "") -> None:
    """Keep what a charger sent that could not be accepted: ``raw`` is the message (or
    an excerpt of it already), ``detail`` what was wrong; both are cut to excerpts."""
    now = timezone.now()
    issue = ProtocolIssue(
        charger_id=charger_id, at=now, kind=kind[:60], detail=excerpt(detail), raw=excerpt(raw)
    )
    if charger_id is None:
        issue.save()
        return
    hour = now.replace(minute=0, second=0, microsecond=0)
    limit = settings.PROTOCOL_ISSUES_PER_CHARGER_HOUR
    with transaction.atomic():
        if ProtocolIssue.objects.filter(charger_id=charger_id, at__gte=hour).count() < limit:
            issue.save()
            return
        _count_over_limit(charger_id, hour, limit)


def _count_over_limit(charger_id: int, hour: datetime, limit: int) -> None:
    summary = ProtocolIssue.objects.filter(charger_id=charger_id, kind=ISSUES_OVER_LIMIT, at=hour)
    if summary.update(occurrences=F("occurrences") + 1):
        return
    try:
        with transaction.atomic():
            ProtocolIssue.objects.create(
                charger_id=charger_id,
                at=hour,
                kind=ISSUES_OVER_LIMIT,
                detail=(
                    f"More than {limit} issues in the hour from {hour:%Y-%m-%d %H:%M} UTC: "
                    f"the first {limit} are kept, this row counts the others."
                ),
            )
    except IntegrityError:  # another gateway made the summary first: count into it
        summary.update(occurrences=F("occurrences") + 1)


def protocol_issues_purge(now: datetime | None = None) -> int:
    """Delete the issues past their keeping time; how many went."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.PROTOCOL_ISSUE_DAYS)
    deleted, _ = ProtocolIssue.objects.filter(at__lt=cutoff).delete()
    return deleted
