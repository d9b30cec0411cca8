"""The gateway's batch writer (group commit with remembered sessions): the plain path
stores what the full service would, and everything else still gets every rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evdms.charging import services
from evdms.charging.models import Charger, ChargingSession, MeterReading, ProtocolIssue
from evdms.charging.ocpp.handlers_v16 import start_transaction_v16, stop_transaction_v16
from evdms.charging.ocpp.persist import Call, MeterValues16, SessionMemory, _run_batch

pytestmark = pytest.mark.django_db
# PostgreSQL's batch UPDATE is framed by SET LOCAL enable_nestloop off / on (meter_batch).
PLANNER_SETTINGS = 2 if connection.vendor == "postgresql" else 0
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def values(minutes: int, wh: Any) -> list[dict[str, Any]]:
    at = (START + timedelta(minutes=minutes)).isoformat()
    return [{"timestamp": at, "sampled_value": [{"value": str(wh), "unit": "Wh"}]}]


@pytest.fixture
def chargers(world) -> list[Charger]:
    made = []
    for i in range(3):
        charger, _ = services.charger_register(
            actor=None, organisation=world.org_a, identity=f"HOME-{i}", serial=f"SN{i}"
        )
        made.append(charger)
    return made


def start(charger: Charger, meter: int = 1000) -> int:
    return start_transaction_v16(charger.pk, 1, "HOME", meter, START)


def mv(charger: Charger, transaction: int | None, minutes: int, wh: Any) -> MeterValues16:
    return MeterValues16(charger.pk, transaction, values(minutes, wh))


def failing(charger_id: int) -> None:
    raise ValueError("this message cannot be stored")


def energy(transaction: int) -> int:
    return ChargingSession.objects.get(pk=transaction).energy_wh


def readings(transaction: int) -> list[int]:
    return list(
        MeterReading.objects.filter(session_id=transaction)
        .order_by("at")
        .values_list("value_wh", flat=True)
    )


def test_one_bad_message_in_a_batch_loses_none_of_the_others(chargers):
    a, b, c = chargers
    ta, tb = start(a), start(b)
    memory = SessionMemory()
    results = _run_batch(
        [
            mv(a, ta, 15, 2000),
            Call(failing, (c.pk,)),
            mv(b, tb, 15, "not a number"),  # kept as a flag, not dropped
            mv(b, tb, 30, 3000),
            mv(c, 999, 15, 5000),  # unknown transaction: recorded
            mv(a, ta, 30, 2500),
        ],
        memory,
    )
    assert [ok for ok, _ in results] == [True, False, True, True, True, True]
    assert isinstance(results[1][1], ValueError)
    assert readings(ta) == [2000, 2500] and energy(ta) == 1500
    assert readings(tb) == [3000] and energy(tb) == 2000
    assert any("bad meter value" in f for f in ChargingSession.objects.get(pk=tb).flags)
    assert ProtocolIssue.objects.filter(kind="MeterValues for unknown transaction").exists()


def test_remembered_sessions_still_get_every_rule(chargers):
    a = chargers[0]
    ta = start(a)
    memory = SessionMemory()
    _run_batch([mv(a, ta, 15, 2000)], memory)  # now remembered
    assert memory.get((a.pk, str(ta))) is not None
    results = _run_batch(
        [
            mv(a, ta, 15, 2000),  # retransmitted: adds nothing
            mv(a, ta, 30, 1800),  # the register went down: flagged, kept
            mv(a, ta, 45, 2600),
            mv(a, ta, 5, 1200),  # an offline queue, replayed late
        ],
        memory,
    )
    assert all(ok for ok, _ in results)
    session = ChargingSession.objects.get(pk=ta)
    assert readings(ta) == [1200, 2000, 1800, 2600]
    assert session.energy_wh == 1600
    assert any("meter went down: 2000 → 1800" in f for f in session.flags)


def test_a_session_completed_elsewhere_is_not_trusted_from_memory(chargers):
    a = chargers[0]
    ta = start(a)
    memory = SessionMemory()
    _run_batch([mv(a, ta, 15, 2000)], memory)
    # Another gateway process (or anything not going through this memory) stops it.
    stop_transaction_v16(a.pk, ta, 4000, START + timedelta(hours=1))
    results = _run_batch([mv(a, ta, 30, 3000)], memory)
    assert results == [(True, None)]
    session = ChargingSession.objects.get(pk=ta)
    assert session.status == "completed" and session.energy_wh == 3000  # stop decides
    assert readings(ta) == [2000, 3000]


def test_a_stop_in_the_same_batch_is_seen_by_later_messages(chargers):
    a = chargers[0]
    ta = start(a)
    memory = SessionMemory()
    _run_batch([mv(a, ta, 15, 2000)], memory)
    stop = Call(stop_transaction_v16, (a.pk, ta, 4000, START + timedelta(hours=1), "Local", None))
    results = _run_batch([mv(a, ta, 30, 3000), stop, mv(a, ta, 45, 9000)], memory)
    assert all(ok for ok, _ in results)
    session = ChargingSession.objects.get(pk=ta)
    assert session.status == "completed" and session.energy_wh == 3000
    assert readings(ta) == [2000, 3000, 9000]


def test_a_batch_of_plain_messages_costs_the_same_few_queries_whatever_its_size(chargers):
    a, b, c = chargers
    transactions = [(charger, start(charger)) for charger in (a, b, c)]
    memory = SessionMemory()
    with CaptureQueriesContext(connection) as cold:
        _run_batch([mv(ch, t, 1, 1001) for ch, t in transactions], memory)
    batch = [mv(ch, t, minute, 1000 + minute) for minute in range(2, 40) for ch, t in transactions]
    with CaptureQueriesContext(connection) as warm:
        results = _run_batch(batch, memory)
    assert all(ok for ok, _ in results)
    # cold: read the sessions, update, insert (and savepoints); warm: no read-back
    assert len(warm.captured_queries) < len(cold.captured_queries) <= 8 + PLANNER_SETTINGS
    for _, t in transactions:
        assert readings(t) == list(range(1001, 1040)) and energy(t) == 39


def test_a_full_batch_of_plain_messages_fits_every_statement(world, chargers):
    """``MAX_BATCH`` sessions at once: the read-back, the UPDATE and the INSERT stay
    within the database's parameter limits, and every reading is stored."""
    from evdms.charging.ocpp.persist import MAX_BATCH

    first = chargers[0]
    model = ChargingSession.objects.get(pk=start(first))
    fleet = Charger.objects.bulk_create(
        [
            Charger(
                organisation=world.org_a, identity=f"FLEET-{i}", serial=f"F{i}", password_hash="-"
            )
            for i in range(MAX_BATCH - 1)
        ]
    )
    copies = []
    for charger in fleet:
        copy = ChargingSession.objects.get(pk=model.pk)
        copy.pk = None
        copy.charger = charger
        copies.append(copy)
    sessions = [model, *ChargingSession.objects.bulk_create(copies)]
    owners = {first.pk: first} | {c.pk: c for c in fleet}
    batch = [mv(owners[s.charger_id], int(s.transaction_id), 5, 1700) for s in sessions]
    assert len(batch) == MAX_BATCH
    results = _run_batch(batch, SessionMemory())
    assert all(ok for ok, _ in results)
    assert MeterReading.objects.filter(value_wh=1700).count() == MAX_BATCH
    assert set(ChargingSession.objects.values_list("energy_wh", flat=True)) == {700}
