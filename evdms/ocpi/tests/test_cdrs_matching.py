"""A CDR is stored on POST and matched (driver, membership, session) by the worker: the
partner's answer does not wait for the matching, each CDR is matched exactly once, and
nothing is lost when the worker's task is (the scheduler's sweep matches what waits).

The tests' task backend normally runs a task at once; here a backend that only queues
(``DummyBackend``) stands for the worker, and the tests run its task themselves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import override_settings
from django_tasks.signals import task_enqueued

from evdms.accounts.models import User
from evdms.charging.models import ChargingSession, SessionStatus
from evdms.ocpi import cdrs
from evdms.ocpi.models import Cdr
from evdms.ocpi.simulator import SimulatedCpo
from evdms.ocpi.tasks import ocpi_cdrs_match
from evdms.ocpi.tests.test_cdrs import (
    cdr_body,
    credit_of,
    driver_with_token,
    post,
    public_connection,
)
from evdms.ocpi.tests.test_handshake import add_partner
from evdms.public_charging.models import Token
from evdms.reimbursements import scheduler
from evdms.testing.fixtures import make_organisation

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def registered(platform: str, cpo: SimulatedCpo) -> SimulatedCpo:
    versions_url, token_a = add_partner()
    cpo.register_with(versions_url, token_a)
    return cpo


@pytest.fixture
def dana(db: None) -> tuple[User, Token]:
    org = make_organisation("voltlease", "Voltlease")
    return driver_with_token(
        org, public_connection(org, "Voltlease public"), "dana@x.example", "APP00001"
    )


@pytest.fixture
def worker_away(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Tasks are queued, not run; the list is the queue (from every thread: the live
    server's requests run in their own). Each test starts a new window."""
    monkeypatch.setattr(cdrs, "_window_due", None)
    queue: list[Any] = []

    def queued(sender: Any, task_result: Any, **kwargs: Any) -> None:
        queue.append(task_result)

    task_enqueued.connect(queued)
    try:
        with override_settings(TASKS=QUEUE_ONLY):
            yield queue
    finally:
        task_enqueued.disconnect(queued)


def run_worker(queue: list[Any]) -> int:
    """What the worker does with the queue: each task run, in turn."""
    matched = sum(ocpi_cdrs_match.call() for _ in queue)
    queue.clear()
    return matched


def test_the_post_answers_before_matching_and_the_cdr_reads_back_at_once(
    registered, dana, worker_away
):
    driver, _ = dana

    reply = post(registered, cdr_body())

    assert reply.status == 201 and reply.body["status_code"] == 1000
    assert registered.get_cdr(reply.headers["location"])["id"] == "CDR-1"
    stored = Cdr.objects.get()
    # Stored, not matched yet: no session, so no report, statement or invoice counts it.
    assert stored.matched_at is None and stored.charging_session is None
    assert not stored.needs_attention and stored.flags == []
    assert ChargingSession.objects.count() == 0
    assert len(worker_away) == 1 and worker_away[0].task.run_after is not None

    assert run_worker(worker_away) == 1

    stored.refresh_from_db()
    session = ChargingSession.objects.get()
    assert stored.charging_session == session and stored.matched_at is not None
    assert session.driver == driver and session.energy_wh == 15342 and stored.flags == []


def test_a_burst_queues_one_task_and_each_cdr_is_matched_once(registered, dana, worker_away):
    for number in range(3):
        post(registered, cdr_body(id=f"CDR-{number}", session_id=f"S-{number}"))

    assert len(worker_away) == 1  # one task for the window, not one per CDR
    assert run_worker(worker_away) == 3
    # The task again (a retry, a second worker, the sweep): nothing matched twice.
    assert ocpi_cdrs_match.call() == 0
    assert ChargingSession.objects.count() == 3
    for cdr in Cdr.objects.all():
        assert cdr.charging_session is not None and cdr.flags == []
        assert not cdr.needs_attention
    assert sorted(s.energy_wh for s in ChargingSession.objects.all()) == [15342] * 3


def test_matching_one_cdr_twice_changes_nothing(registered, dana, worker_away):
    post(registered, cdr_body())
    cdr = Cdr.objects.get()

    assert cdrs.cdr_match(cdr.pk) is True
    first = Cdr.objects.get()
    assert cdrs.cdr_match(cdr.pk) is False

    again = Cdr.objects.get()
    assert (again.matched_at, again.flags, again.charging_session_id) == (
        first.matched_at,
        [],
        first.charging_session_id,
    )
    assert ChargingSession.objects.count() == 1


def test_a_retransmission_while_matching_waits_stores_nothing_twice(registered, dana, worker_away):
    first = post(registered, cdr_body())
    again = post(registered, cdr_body(total_energy=99.0))

    assert (first.status, again.status) == (201, 200)
    assert again.headers["location"] == first.headers["location"]
    assert Cdr.objects.count() == 1
    run_worker(worker_away)
    assert ChargingSession.objects.get().energy_wh == 15342  # the CDR first stored


def test_a_lost_task_is_made_good_by_the_schedulers_sweep(
    registered, dana, worker_away, monkeypatch
):
    post(registered, cdr_body())
    worker_away.clear()  # the worker crashed: the task is gone, the CDR is stored
    assert Cdr.objects.get().matched_at is None

    monkeypatch.setattr(
        scheduler, "JOBS", [job for job in scheduler.JOBS if job.name == "ocpi_cdrs_match"]
    )
    runs = scheduler.scheduler_tick(datetime(2026, 11, 11, 9, 0, tzinfo=UTC))
    assert [r.job for r in runs] == ["ocpi_cdrs_match"]
    run_worker(worker_away)

    cdr = Cdr.objects.get()
    assert cdr.matched_at is not None and cdr.charging_session == ChargingSession.objects.get()


def test_a_crash_while_matching_leaves_the_cdr_for_the_next_run(
    registered, dana, worker_away, monkeypatch
):
    post(registered, cdr_body())
    real = cdrs.public_session_record

    def crash(record: Any) -> Any:
        real(record)  # the session written, then the worker dies before the CDR is
        raise RuntimeError("worker killed")

    monkeypatch.setattr(cdrs, "public_session_record", crash)
    assert run_worker(worker_away) == 0
    # Rolled back together: no session without its CDR's match.
    assert Cdr.objects.get().matched_at is None and ChargingSession.objects.count() == 0

    monkeypatch.setattr(cdrs, "public_session_record", real)
    assert ocpi_cdrs_match.call() == 1
    cdr = Cdr.objects.get()
    assert cdr.charging_session == ChargingSession.objects.get() and cdr.flags == []


def test_a_credit_stored_right_after_its_original_credits_it_once_both_are_matched(
    registered, dana, worker_away
):
    original = cdr_body()
    post(registered, original)
    post(registered, credit_of(original))

    assert run_worker(worker_away) == 2

    session = ChargingSession.objects.get()
    assert session.status == SessionStatus.CREDITED
    credit = Cdr.objects.get(object_id="CDR-1-C")
    assert credit.credits == Cdr.objects.get(object_id="CDR-1")
    assert credit.charging_session == session and credit.flags == []
    assert not credit.needs_attention


def test_an_unknown_token_is_flagged_once_matched(registered, dana, worker_away):
    post(registered, cdr_body(uid="NOBODY01"))
    assert not Cdr.objects.get().needs_attention  # not judged before the worker has

    run_worker(worker_away)

    cdr = Cdr.objects.get()
    assert cdr.needs_attention and cdr.charging_session is None
    assert cdr.flags[0].startswith("unknown token:")
