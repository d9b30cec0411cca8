"""Protocol issues take bounded room: an excerpt each, a limit per charger and hour with
the rest counted, and a keeping time after which the daily purge deletes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import override_settings

from evdms.charging.models import ISSUES_OVER_LIMIT, ProtocolIssue
from evdms.charging.services import charger_register
from evdms.charging.services.protocol_issues import protocol_issue
from evdms.reimbursements.scheduler import scheduler_tick
from evdms.testing.concurrency import at_once

pytestmark = pytest.mark.django_db
TEN_PAST_TEN = datetime(2026, 11, 20, 10, 10, tzinfo=UTC)


def register(world, identity: str):
    return charger_register(
        actor=None, organisation=world.org_a, identity=identity, serial="SN", password=None
    )[0]


def at(moment: datetime):
    return mock.patch("evdms.charging.services.protocol_issues.timezone.now", return_value=moment)


@override_settings(PROTOCOL_ISSUES_PER_CHARGER_HOUR=10)
def test_a_charger_keeps_its_first_issues_of_the_hour_and_the_rest_are_counted(world):
    spammer, neighbour = register(world, "SPAM-1"), register(world, "CALM-1")
    with at(TEN_PAST_TEN):
        for n in range(35):
            protocol_issue(spammer.pk, "Unreadable frame", "not JSON", f"junk {n}")
        protocol_issue(neighbour.pk, "Unreadable frame", "not JSON", "one bad frame")
    rows = ProtocolIssue.objects.filter(charger=spammer)
    assert rows.count() == 11
    assert sorted(rows.exclude(kind=ISSUES_OVER_LIMIT).values_list("raw", flat=True)) == sorted(
        f"junk {n}" for n in range(10)
    )
    summary = rows.get(kind=ISSUES_OVER_LIMIT)
    assert summary.occurrences == 25
    assert summary.at == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert "More than 10 issues in the hour from 2026-11-20 10:00 UTC" in summary.detail
    assert rows.aggregate(total=Sum("occurrences"))["total"] == 35
    assert ProtocolIssue.objects.filter(charger=neighbour).count() == 1
    with at(TEN_PAST_TEN + timedelta(hours=1)):  # a new hour: kept in full again
        protocol_issue(spammer.pk, "Unreadable frame", "not JSON", "next hour")
    assert rows.filter(raw="next hour").exists()


@pytest.mark.django_db(transaction=True)
@override_settings(PROTOCOL_ISSUES_PER_CHARGER_HOUR=2)
def test_two_gateways_over_a_chargers_limit_at_once_count_into_one_row(world):
    charger = register(world, "TWICE-1")
    with at(TEN_PAST_TEN):
        protocol_issue(charger.pk, "Unreadable frame")
        protocol_issue(charger.pk, "Unreadable frame")
        over = [lambda: protocol_issue(charger.pk, "Unreadable frame")] * 4
        at_once(*over)
    summary = ProtocolIssue.objects.get(charger=charger, kind=ISSUES_OVER_LIMIT)
    assert summary.occurrences == 4
    assert ProtocolIssue.objects.filter(charger=charger).count() == 3


def test_an_issue_keeps_an_excerpt_of_what_was_sent(world):
    charger = register(world, "LONG-1")
    protocol_issue(charger.pk, "x" * 100, "why " * 10_000, "{" * 1_000_000)
    issue = ProtocolIssue.objects.get()
    assert len(issue.kind) == 60 and len(issue.detail) == 500 and len(issue.raw) == 500
    assert issue.raw.endswith("… (1000000 characters in all)")


def test_issues_past_their_keeping_time_are_purged_daily_and_recent_ones_kept(world):
    charger = register(world, "OLD-1")
    now = datetime(2026, 11, 20, 6, tzinfo=UTC)
    for days, kind in [(31, "old"), (30.5, "just too old"), (29, "recent"), (0, "today")]:
        ProtocolIssue.objects.create(charger=charger, kind=kind, at=now - timedelta(days=days))
    with mock.patch("evdms.charging.services.protocol_issues.timezone.now", return_value=now):
        runs = scheduler_tick(now)
        assert ("purge_protocol_issues", "2026-11-20") in [(r.job, r.period) for r in runs]
        assert set(ProtocolIssue.objects.values_list("kind", flat=True)) == {"recent", "today"}
        ProtocolIssue.objects.create(charger=charger, kind="stale", at=now - timedelta(days=40))
        later = [r.job for r in scheduler_tick(now + timedelta(hours=12))]
        assert "purge_protocol_issues" not in later  # once a day, however often it looks
    assert ProtocolIssue.objects.filter(kind="stale").exists()
    tomorrow = now + timedelta(days=1)
    with mock.patch("evdms.charging.services.protocol_issues.timezone.now", return_value=tomorrow):
        assert "purge_protocol_issues" in [r.job for r in scheduler_tick(tomorrow)]
    assert set(ProtocolIssue.objects.values_list("kind", flat=True)) == {"recent", "today"}


@override_settings(PROTOCOL_ISSUE_DAYS=7)
def test_the_command_purges_by_the_configured_keeping_time(world):
    charger = register(world, "CMD-1")
    now = datetime.now(UTC)
    ProtocolIssue.objects.create(charger=charger, kind="eight days", at=now - timedelta(days=8))
    ProtocolIssue.objects.create(charger=charger, kind="six days", at=now - timedelta(days=6))
    out = StringIO()
    call_command("purge_protocol_issues", stdout=out)
    assert out.getvalue() == "Deleted 1 protocol issue(s) older than 7 days.\n"
    assert list(ProtocolIssue.objects.values_list("kind", flat=True)) == ["six days"]
