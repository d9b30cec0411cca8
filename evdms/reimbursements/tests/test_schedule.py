"""Statements of the previous month are made on the 1st, once, however many schedulers
run; the clock is given to the scheduler, never waited for."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from evdms.charging.models import ChargingSession
from evdms.reimbursements import scheduler, tasks
from evdms.reimbursements.models import ScheduledRun, Statement
from evdms.reimbursements.scheduler import scheduler_tick
from evdms.reimbursements.tests.conftest import reimbursed_driver
from evdms.testing.concurrency import at_once
from evdms.testing.fixtures import make_connection

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


@pytest.fixture(autouse=True)
def statements_only(monkeypatch):
    """The statement job alone: the daily ones are tested with their areas."""
    jobs = [job for job in scheduler.JOBS if job.name == "make_statements"]
    monkeypatch.setattr(scheduler, "JOBS", jobs)


@pytest.fixture
def october_session(world):
    """Dan charged at home in October under a reimbursing connection."""
    dan = reimbursed_driver(world, make_connection(world.org_a, max_price_per_kwh="0.30"))
    started = datetime(2026, 10, 12, 19, tzinfo=UTC)
    ChargingSession.objects.create(
        charger=dan["charger"],
        organisation_id=dan["charger"].organisation_id,
        driver=dan["driver"],
        connection=dan["connection"],
        transaction_id="t1",
        started_at=started,
        ended_at=started + timedelta(hours=2),
        energy_wh=10_000,
        status="completed",
    )
    return dan["driver"]


def test_on_the_first_the_previous_months_statements_are_made(october_session):
    # 23:30 UTC on 31 October is 00:30 on 1 November in Amsterdam (the platform's zone)
    assert scheduler_tick(datetime(2026, 10, 31, 22, 30, tzinfo=UTC))[0].period == "2026-09"
    assert not Statement.objects.filter(month=date(2026, 10, 1)).exists()
    (run,) = scheduler_tick(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    assert (run.job, run.period) == ("make_statements", "2026-10")
    statement = Statement.objects.get(month=date(2026, 10, 1))
    assert statement.driver == october_session and statement.total == Decimal("2.50")


def test_each_month_is_made_once_however_often_the_scheduler_looks(october_session):
    first = datetime(2026, 11, 1, 6, tzinfo=UTC)
    assert len(scheduler_tick(first)) == 1
    for later in (first + timedelta(minutes=1), first + timedelta(days=29)):
        assert scheduler_tick(later) == []  # the rest of November: nothing new
    assert [r.period for r in scheduler_tick(datetime(2026, 12, 1, 6, tzinfo=UTC))] == ["2026-11"]
    assert sorted(ScheduledRun.objects.values_list("period", flat=True)) == ["2026-10", "2026-11"]
    assert Statement.objects.count() == 1  # nothing was charged in November


def test_a_scheduler_that_was_down_on_the_first_catches_up(october_session):
    (run,) = scheduler_tick(datetime(2026, 11, 17, 9, tzinfo=UTC))
    assert run.period == "2026-10" and Statement.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_enqueue_the_month_once(october_session):
    runs: list[str] = []
    real = tasks.statements_run

    def counted(month: date) -> dict[str, int]:
        runs.append(f"{month:%Y-%m}")
        return real(month)

    now = datetime(2026, 11, 1, 0, 1, tzinfo=UTC)
    with mock.patch.object(tasks, "statements_run", counted):
        at_once(lambda: scheduler_tick(now), lambda: scheduler_tick(now))
    assert runs == ["2026-10"]
    assert ScheduledRun.objects.count() == 1 and Statement.objects.count() == 1


def test_the_command_checks_once_and_the_month_can_be_made_by_hand(october_session):
    out = StringIO()
    with mock.patch(
        "evdms.reimbursements.scheduler.timezone.now",
        return_value=datetime(2026, 11, 1, 6, tzinfo=UTC),
    ):
        call_command("run_scheduler", "--once", stdout=out)
        call_command("run_scheduler", "--once", stdout=out)
    assert out.getvalue() == "Enqueued make_statements for 2026-10.\n"
    out = StringIO()
    call_command("make_statements", "--month", "2026-10", stdout=out)
    assert "October 2026: 0 statement(s) made" in out.getvalue()
    assert tasks.make_statements.call(month="2026-10")["made"] == 0
    assert Statement.objects.count() == 1
