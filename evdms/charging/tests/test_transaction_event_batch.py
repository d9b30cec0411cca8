"""OCPP 2.0.1 TransactionEvent through the gateway's batch writer: a plain ``Updated``
takes the fast path, and what the database holds afterwards is what the session core
stores when it gets the same events one at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from evdms.charging import services
from evdms.charging.models import Charger, ChargingSession, MeterReading
from evdms.charging.ocpp import persist
from evdms.charging.ocpp.common import Superseded
from evdms.charging.ocpp.events_v201 import transaction_event_v201
from evdms.charging.ocpp.persist import SessionMemory, TransactionEvent201, _run_batch

pytestmark = pytest.mark.django_db
# PostgreSQL's batch UPDATE is framed by SET LOCAL enable_nestloop off / on (meter_batch).
PLANNER_SETTINGS = 2 if connection.vendor == "postgresql" else 0
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


@pytest.fixture
def chargers(world) -> list[Charger]:
    made = []
    for i in range(4):
        charger, _ = services.charger_register(
            actor=None, organisation=world.org_a, identity=f"HOME-{i}", serial=f"SN{i}"
        )
        made.append(charger)
    return made


@pytest.fixture
def core_calls(monkeypatch) -> list[str]:
    """The event types that went to the session core, one message at a time."""
    calls: list[str] = []

    def counted(*args: Any) -> None:
        calls.append(args[1])
        transaction_event_v201(*args)

    monkeypatch.setattr(persist, "transaction_event_v201", counted)
    return calls


def event(
    kind: str,
    seq: int,
    minutes: int,
    wh: Any = None,
    *,
    token: str = "",
    tx: str = "TX-1",
    signed: bool = False,
) -> dict[str, Any]:
    at = (START + timedelta(minutes=minutes)).isoformat()
    sample: dict[str, Any] = {"value": wh, "unit_of_measure": {"unit": "Wh"}}
    if signed:
        sample["signed_meter_value"] = {"signed_meter_data": "OCMF|{}|{}", "signing_method": ""}
    return {
        "event_type": kind,
        "timestamp": START + timedelta(minutes=minutes),
        "seq_no": seq,
        "transaction_info": {"transaction_id": tx, "stopped_reason": "EVDisconnected"},
        "meter_value": ([{"timestamp": at, "sampled_value": [sample]}] if wh is not None else None),
        "id_token": {"id_token": token, "type": "Central"} if token else None,
        "evse": {"id": 1, "connector_id": 1},
    }


def item(charger: Charger, e: dict[str, Any], epoch: int | None = None) -> TransactionEvent201:
    return TransactionEvent201(charger_id=charger.pk, epoch=epoch, **e)


def through_core(charger: Charger, events: list[dict[str, Any]]) -> list[bool]:
    """The session core alone, one message at a time (what the gateway did before)."""
    ok = []
    for e in events:
        try:
            with transaction.atomic():
                transaction_event_v201(*item(charger, e).as_call().args)
            ok.append(True)
        except Exception:
            ok.append(False)
    return ok


def through_batches(
    charger: Charger, batches: list[list[dict[str, Any]]], memory: SessionMemory
) -> list[bool]:
    ok = []
    for batch in batches:
        ok += [good for good, _ in _run_batch([item(charger, e) for e in batch], memory)]
    return ok


def stored(charger: Charger) -> list[dict[str, Any]]:
    """What a charger's sessions hold, as a partner or the report would see it."""
    rows = []
    for session in ChargingSession.objects.filter(charger=charger).order_by("transaction_id"):
        rows.append(
            {
                "transaction_id": session.transaction_id,
                "status": session.status,
                "review": session.review,
                "energy_wh": session.energy_wh,
                "meter_start_wh": session.meter_start_wh,
                "meter_stop_wh": session.meter_stop_wh,
                "started_at": session.started_at,
                "ended_at": session.ended_at,
                "flags": session.flags,
                "last_seq_no": session.last_seq_no,
                "id_tag": session.id_tag,
                "signed": session.signed_meter_data,
                "readings": list(
                    MeterReading.objects.filter(session=session)
                    .order_by("at")
                    .values_list("at", "value_wh")
                ),
            }
        )
    return rows


PLAIN_SESSION = [
    event("Started", 0, 0, token="HOME"),
    event("Updated", 1, 5, 1000),
    event("Updated", 2, 10, 1400),
    event("Updated", 3, 15, 1400),  # the register did not move: still plain
    event("Updated", 4, 20, 2100),
    event("Updated", 5, 25, 2600),
    event("Ended", 6, 30, 2900),
]

UNUSUAL_SESSION = [
    event("Updated", 1, 5, 1000),  # before its Started
    event("Started", 0, 0, token="HOME"),
    event("Updated", 2, 10, 1500),
    event("Updated", 2, 10, 1500),  # retransmitted
    event("Updated", 3, 15, 1300),  # the register went down
    event("Updated", 4, 20, 1800),
    event("Updated", 5, 7, 1200),  # an offline queue, replayed late
    event("Updated", 6, 25, 2000, signed=True),
    event("Updated", 7, 30, "not a number"),
    event("Updated", 8, 35, 10**12),  # no column can hold it: refused
    event("Updated", 9, 40, 2500),
    event("Updated", 10, 45, 900_000),  # above the ceiling per session: held
    event("Updated", 11, 50, 900_100),
    event("Ended", 12, 55, 900_200),
]

# Energy no statement could hold is kept as 0 with a flag: the session is no longer what
# its readings alone make it, so later readings are the core's, which recounts them.
BEYOND_REIMBURSABLE = [
    event("Started", 0, 0),
    event("Updated", 1, 5, 1000),
    event("Updated", 2, 10, 1100),
    event("Updated", 3, 15, 200_001_000),
    event("Updated", 4, 20, 1500),
    event("Updated", 5, 25, 1600),
    event("Updated", 6, 30, 1700),
]

TOKEN_LATE = [
    event("Started", 0, 0),
    event("Updated", 1, 5, 1000),
    event("Updated", 2, 10, 1200),
    event("Updated", 3, 15, 1500, token="LATE-TAG"),  # the session had none
    event("Updated", 4, 20, 1900, token="OTHER"),
]


@pytest.mark.parametrize(
    "events", [PLAIN_SESSION, UNUSUAL_SESSION, BEYOND_REIMBURSABLE, TOKEN_LATE]
)
@pytest.mark.parametrize("size", [1, 2, 100])
def test_the_fast_path_stores_what_the_session_core_stores(chargers, events, size):
    core, fast = chargers[0], chargers[1]
    expected_ok = through_core(core, events)
    batches = [events[i : i + size] for i in range(0, len(events), size)]
    assert through_batches(fast, batches, SessionMemory()) == expected_ok
    assert stored(fast) == stored(core)
    assert stored(fast)[0]["readings"]  # the sequences store something to compare


def test_plain_updated_events_take_the_fast_path_and_the_rest_the_core(chargers, core_calls):
    a = chargers[0]
    memory = SessionMemory()
    through_batches(a, [[e] for e in PLAIN_SESSION], memory)
    # Every Updated is the fast path's, the first too (its reading is the start).
    assert core_calls == ["Started", "Ended"]
    session = stored(a)[0]
    assert session["energy_wh"] == 1900 and session["last_seq_no"] == 6
    assert session["status"] == "completed" and session["id_tag"] == "HOME"


def test_a_token_the_session_lacks_goes_to_the_core(chargers, core_calls):
    a = chargers[0]
    through_batches(a, [[e] for e in TOKEN_LATE], SessionMemory())
    assert core_calls == ["Started", "Updated"]  # LATE-TAG; the plain ones, fast
    assert stored(a)[0]["id_tag"] == "LATE-TAG"


def test_an_event_of_a_superseded_connection_is_refused_on_the_fast_path_too(chargers):
    a = chargers[0]
    old = services.charger_connected(a.pk, "ocpp2.0.1")
    memory = SessionMemory()
    for e in PLAIN_SESSION[:3]:
        _run_batch([item(a, e, old)], memory)
    assert memory.get((a.pk, "TX-1")) is not None  # remembered: the next would be plain
    new = services.charger_connected(a.pk, "ocpp2.0.1")
    results = _run_batch(
        [item(a, event("Updated", 3, 15, 1800), old), item(a, event("Updated", 4, 20, 1900), new)],
        memory,
    )
    assert isinstance(results[0][1], Superseded) and results[1] == (True, None)
    session = stored(a)[0]
    assert [wh for _, wh in session["readings"]] == [1000, 1400, 1900]
    assert session["energy_wh"] == 900 and session["last_seq_no"] == 4


def test_a_batch_of_plain_updated_events_costs_the_same_few_queries_whatever_its_size(
    chargers, core_calls
):
    def updates(minutes: range) -> list[TransactionEvent201]:
        return [
            item(charger, event("Updated", minute, minute, 1000 + minute, tx=f"TX-{charger.pk}"))
            for minute in minutes
            for charger in chargers
        ]

    memory = SessionMemory()
    # Started through the core; then the first readings (the sessions' start), read
    # back cold, and the rest from memory.
    _run_batch([item(ch, event("Started", 0, 0, tx=f"TX-{ch.pk}")) for ch in chargers], memory)
    calls_before = len(core_calls)
    with CaptureQueriesContext(connection) as cold:
        _run_batch(updates(range(1, 3)), memory)
    with CaptureQueriesContext(connection) as small:
        assert all(ok for ok, _ in _run_batch(updates(range(3, 4)), memory))
    # 240 readings: SQLite's INSERT takes at most 999 parameters (4 a reading), so more
    # would be two statements there (one on PostgreSQL): the cost per row, not per message.
    with CaptureQueriesContext(connection) as large:
        assert all(ok for ok, _ in _run_batch(updates(range(4, 64)), memory))
    assert len(core_calls) == calls_before  # none of them went one at a time
    # cold: read the sessions, update, insert (and savepoints); warm: no read-back
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(large.captured_queries) < len(cold.captured_queries) <= 8 + PLANNER_SETTINGS
    for charger in chargers:
        session = ChargingSession.objects.get(charger=charger)
        assert session.energy_wh == 62 and session.last_seq_no == 63
        assert MeterReading.objects.filter(session=session).count() == 63


def test_a_batch_of_1_6_and_2_0_1_readings_updates_each_session_its_own_way(chargers):
    """One UPDATE for both: a 1.6 session has no sequence number and keeps none; a 2.0.1
    session's is the highest it reported, never lowered."""
    from evdms.charging.ocpp.handlers_v16 import start_transaction_v16
    from evdms.charging.ocpp.persist import MeterValues16

    a, b = chargers[0], chargers[1]
    memory = SessionMemory()
    tx = start_transaction_v16(a.pk, 1, "HOME", 500, START)

    def reading_16(minutes: int, wh: int) -> MeterValues16:
        at = (START + timedelta(minutes=minutes)).isoformat()
        return MeterValues16(a.pk, tx, [{"timestamp": at, "sampled_value": [{"value": str(wh)}]}])

    through_batches(b, [PLAIN_SESSION[:2]], memory)  # Started and a first reading
    _run_batch([reading_16(5, 700), item(b, event("Updated", 2, 10, 1400))], memory)
    assert memory.get((a.pk, str(tx))) is not None and memory.get((b.pk, "TX-1")) is not None
    with CaptureQueriesContext(connection) as batch:
        results = _run_batch(
            [
                reading_16(10, 900),
                item(b, event("Updated", 4, 15, 1500)),
                item(b, event("Updated", 3, 20, 1600)),  # an older seqNo, a later reading
                reading_16(15, 1200),
            ],
            memory,
        )
    assert all(ok for ok, _ in results)
    updates = [q["sql"] for q in batch.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1  # both sessions in the one statement
    one_six = ChargingSession.objects.get(pk=tx)
    assert one_six.energy_wh == 700 and one_six.last_seq_no is None
    two = stored(b)[0]
    assert two["energy_wh"] == 600 and two["last_seq_no"] == 4
    assert [wh for _, wh in two["readings"]] == [1000, 1400, 1500, 1600]


def test_a_first_reading_stored_elsewhere_since_is_not_overwritten_by_memory(chargers, core_calls):
    """The session was remembered with no reading (no start); another writer then gave
    it its first reading: the fast path must not set a second start over it."""
    a = chargers[0]
    memory = SessionMemory()
    _run_batch([item(a, PLAIN_SESSION[0])], memory)
    _run_batch([item(a, event("Updated", 1, 5, 1000))], memory)  # remembered
    # Behind our back (another process): the session loses its readings and start.
    MeterReading.objects.filter(session__charger=a).delete()
    ChargingSession.objects.filter(charger=a).update(meter_start_wh=None, energy_wh=0)
    stale = memory.get((a.pk, "TX-1"))
    assert stale is not None
    stale.meter_start_wh, stale.first_wh, stale.peak_wh = None, None, None
    stale.last_at = stale.last_wh = None
    with transaction.atomic():  # ... and then its first reading from elsewhere
        transaction_event_v201(*item(a, event("Updated", 2, 10, 4000)).as_call().args)
    calls_before = len(core_calls)
    assert all(ok for ok, _ in _run_batch([item(a, event("Updated", 3, 15, 4500))], memory))
    assert len(core_calls) == calls_before + 1  # the UPDATE refused it: the core's
    session = stored(a)[0]
    assert session["meter_start_wh"] == 4000 and session["energy_wh"] == 500
