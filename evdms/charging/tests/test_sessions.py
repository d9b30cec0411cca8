"""The session core called directly, as public charging will call it: start, readings,
finish, events, flags and holds, with plain values and no protocol in between.

Dan drives for Voltlease and, since more recently, for Rival Lease; his home charger is
Voltlease's, so every session on it is Voltlease's whatever else he belongs to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from evdms.accounts.models import User
from evdms.charging.bounds import Unstorable
from evdms.charging.models import Charger, ChargingSession, MeterReading
from evdms.charging.services import charger_register, sessions
from evdms.charging.services.sessions import MeterReport, Reading, SessionEvent
from evdms.testing.fixtures import make_connection, make_membership

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


@pytest.fixture
def home(world):
    dan = User.objects.create_user("dan@example.com", "dan's long passphrase")
    voltlease = make_membership(make_connection(world.org_a, name="Volt_Home"), dan)
    voltlease.connected_at = START - timedelta(days=60)
    voltlease.save()
    rival = make_membership(make_connection(world.org_b, name="Rival_Home"), dan)
    rival.connected_at = START - timedelta(days=10)
    rival.save()
    charger, _ = charger_register(
        actor=None, organisation=world.org_a, identity="HOME-1", serial="S", driver=dan
    )
    return {"dan": dan, "voltlease": voltlease, "charger": charger}


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def report(*pairs: tuple[int, int]) -> MeterReport:
    return MeterReport(readings=[Reading(at(minutes), wh) for minutes, wh in pairs])


def start(charger: Charger, meter_start_wh: int = 1000, **kw) -> str:
    return sessions.session_start(
        charger_id=charger.pk,
        connector=1,
        started_at=START,
        meter_start_wh=meter_start_wh,
        token="CARD-7",
        **kw,
    )


def session(charger: Charger, key: str) -> ChargingSession:
    return ChargingSession.objects.get(charger=charger, transaction_id=key)


def stored(charger: Charger, key: str) -> list[int]:
    return list(
        MeterReading.objects.filter(session=session(charger, key))
        .order_by("at")
        .values_list("value_wh", flat=True)
    )


def test_a_started_session_belongs_to_the_membership_of_the_chargers_organisation(home):
    key = start(home["charger"])

    started = session(home["charger"], key)
    assert started.status == "active" and started.started_at == START
    assert started.meter_start_wh == 1000 and started.energy_wh == 0
    assert started.id_tag == "CARD-7" and started.connector_id == 1
    assert started.driver == home["dan"]
    assert started.connection == home["voltlease"].connection  # never Rival Lease's
    assert started.flags == [] and started.review == ""


def test_a_repeated_start_is_the_same_session(home):
    first, again = start(home["charger"]), start(home["charger"])

    assert first == again
    assert ChargingSession.objects.count() == 1


def test_readings_are_stored_and_the_energy_follows_the_register(home):
    key = start(home["charger"])

    found = sessions.session_add_readings(
        charger_id=home["charger"].pk, key=key, report=report((15, 1500), (30, 2250))
    )

    assert found is True
    assert stored(home["charger"], key) == [1500, 2250]
    assert session(home["charger"], key).energy_wh == 1250


def test_a_duplicate_of_readings_adds_nothing(home):
    key = start(home["charger"])
    readings = report((15, 1500), (30, 2250))
    sessions.session_add_readings(charger_id=home["charger"].pk, key=key, report=readings)

    sessions.session_add_readings(charger_id=home["charger"].pk, key=key, report=readings)

    assert stored(home["charger"], key) == [1500, 2250]
    again = session(home["charger"], key)
    assert again.energy_wh == 1250 and again.flags == []


def test_a_meter_going_down_is_flagged_and_the_reading_kept(home):
    key = start(home["charger"])
    sessions.session_add_readings(charger_id=home["charger"].pk, key=key, report=report((15, 2000)))

    sessions.session_add_readings(charger_id=home["charger"].pk, key=key, report=report((30, 1800)))

    assert stored(home["charger"], key) == [2000, 1800]
    flagged = session(home["charger"], key)
    assert "meter went down: 2000 → 1800 Wh" in flagged.flags
    assert flagged.energy_wh == 1000  # the highest register reached, not the last


def test_readings_for_no_session_store_nothing(home):
    found = sessions.session_add_readings(
        charger_id=home["charger"].pk, key="404", report=report((15, 2000))
    )

    assert found is False
    assert not ChargingSession.objects.exists() and not MeterReading.objects.exists()


def test_a_finished_session_has_the_energy_from_start_to_stop_and_a_repeat_changes_nothing(home):
    key = start(home["charger"])

    sessions.session_finish(
        charger_id=home["charger"].pk,
        key=key,
        ended_at=at(120),
        meter_stop_wh=8000,
        reason="EV disconnected",
        report=report((60, 4000)),
    )
    sessions.session_finish(
        charger_id=home["charger"].pk, key=key, ended_at=at(180), meter_stop_wh=9999, reason="x"
    )

    done = session(home["charger"], key)
    assert done.status == "completed" and done.ended_at == at(120)
    assert done.meter_stop_wh == 8000 and done.energy_wh == 7000
    assert done.stop_reason == "EV disconnected"
    assert done.duration == timedelta(hours=2)
    assert stored(home["charger"], key) == [4000]
    assert done.flags == [] and done.review == ""


def test_a_finish_without_a_start_is_kept_from_its_first_reading_with_the_flag_given(home):
    sessions.session_finish(
        charger_id=home["charger"].pk,
        key="77",
        ended_at=at(120),
        meter_stop_wh=6000,
        reason="Local",
        report=report((30, 2000), (60, 4000)),
        unknown_flag="finish for a session the partner never started",
    )

    kept = session(home["charger"], "77")
    assert kept.status == "completed" and kept.started_at == at(30)
    assert "finish for a session the partner never started" in kept.flags
    assert kept.connection == home["voltlease"].connection


def test_energy_no_home_charger_delivers_holds_the_session_for_review(home):
    key = start(home["charger"], meter_start_wh=0)

    sessions.session_finish(
        charger_id=home["charger"].pk, key=key, ended_at=at(60), meter_stop_wh=500_000, reason="x"
    )

    held = session(home["charger"], key)
    assert held.energy_wh == 500_000
    assert held.review == "pending"
    assert any("above the ceiling" in f for f in held.flags)


def test_a_start_time_outside_the_window_is_replaced_by_the_arrival_and_held(home):
    key = sessions.session_start(
        charger_id=home["charger"].pk,
        connector=1,
        started_at=datetime(2000, 1, 1, tzinfo=UTC),
        meter_start_wh=0,
    )

    held = session(home["charger"], key)
    assert held.started_at is not None
    assert abs(held.started_at - timezone.now()) < timedelta(minutes=1)
    assert held.review == "pending"
    assert any(f.startswith("start ") and "the time it arrived is used" in f for f in held.flags)


def test_a_value_no_column_holds_is_refused_under_the_core_s_own_field_name(home):
    with pytest.raises(Unstorable) as refused:
        sessions.session_start(
            charger_id=home["charger"].pk, connector=1, started_at=START, meter_start_wh=2**63
        )

    assert refused.value.field == "meter_start_wh"
    assert not ChargingSession.objects.exists()


def test_events_in_any_order_make_one_session_with_the_energy_of_its_readings(home):
    charger = home["charger"]

    def event(kind: SessionEvent, minutes: int, *pairs: tuple[int, int]) -> None:
        sessions.session_event(
            charger_id=charger.pk,
            key="tx-9",
            event=kind,
            at=at(minutes),
            sequence=minutes,
            connector=2,
            token="CARD-7",
            report=report(*pairs),
            stop_reason="EV disconnected",
            early_flag="heard of before its start",
        )

    event(SessionEvent.UPDATED, 30, (30, 12_000))  # the start is still on its way
    event(SessionEvent.ENDED, 60, (60, 14_000))
    event(SessionEvent.STARTED, 0, (0, 10_000))
    event(SessionEvent.ENDED, 60, (60, 14_000))  # a repeat

    one = ChargingSession.objects.get()
    assert one.transaction_id == "tx-9" and one.connector_id == 2
    assert one.started_at == START and one.ended_at == at(60)
    assert one.status == "completed" and one.stop_reason == "EV disconnected"
    assert one.meter_start_wh == 10_000 and one.meter_stop_wh == 14_000
    assert one.energy_wh == 4000
    assert one.connection == home["voltlease"].connection
    assert one.flags == ["heard of before its start"]
    assert one.last_seq_no == 60
    assert stored(charger, "tx-9") == [10_000, 12_000, 14_000]


def test_a_flag_informs_and_a_hold_keeps_the_session_for_review(home):
    charger = home["charger"]
    key = start(charger)

    assert sessions.session_flag(charger_id=charger.pk, key=key, reason="tariff unknown")
    informed = session(charger, key)
    assert informed.flags == ["tariff unknown"] and informed.review == ""

    assert sessions.session_flag(charger_id=charger.pk, key=key, reason="disputed", hold=True)
    sessions.session_flag(charger_id=charger.pk, key=key, reason="disputed", hold=True)
    held = session(charger, key)
    assert held.flags == ["tariff unknown", "disputed"] and held.review == "pending"

    assert sessions.session_flag(charger_id=charger.pk, key="404", reason="x") is False
