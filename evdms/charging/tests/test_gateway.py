"""Real websockets: simulated chargers (the ocpp package's charge-point side) against the
gateway, for OCPP 1.6J and 2.0.1; the sessions checked in the database and the API."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from websockets.exceptions import InvalidStatus

from evdms.accounts.models import User
from evdms.charging.models import Charger, ChargingSession, MeterReading, ProtocolIssue
from evdms.charging.services import charger_register
from evdms.charging.simulator import (
    Charger16,
    Charger201,
    SimulatedSession,
    open_connection,
    run_charger,
)
from evdms.testing.aio import run_async
from evdms.testing.fixtures import make_connection, make_membership

PASSWORD = "a-charger-password-1234"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def home(world):
    """Dan, connected to a reimbursing connection of Voltlease, with a home charger."""
    dan = User.objects.create_user(
        "dan@example.com", "dan's long passphrase", full_name="Dan Driver"
    )
    connection = make_connection(world.org_a, home_charging_data_sharing="yes")
    membership = make_membership(connection, dan)
    membership.connected_at = timezone.now() - timedelta(days=30)
    membership.save()
    charger, _ = charger_register(
        actor=None,
        organisation=world.org_a,
        identity="HOME-1",
        serial="SN1",
        password=PASSWORD,
        driver=dan,
    )
    return {"dan": dan, "connection": connection, "charger": charger}


def session_at(hours_ago: int, meter: int = 1_000_000) -> SimulatedSession:
    return SimulatedSession(start=timezone.now() - timedelta(hours=hours_ago), meter_start_wh=meter)


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
def test_a_charger_runs_a_session_end_to_end(gateway, home, protocol):
    run_async(run_charger(gateway, "HOME-1", PASSWORD, protocol, [session_at(3)]))
    session = ChargingSession.objects.get()
    assert session.energy_wh == 6000
    assert session.status == "completed"
    assert session.driver == home["dan"] and session.connection == home["connection"]
    assert session.duration == timedelta(hours=1)
    assert session.flags == []
    assert MeterReading.objects.filter(session=session).count() >= 4
    charger = Charger.objects.get()
    assert charger.vendor == "evdms-sim" and charger.protocol == f"ocpp{protocol}"
    # The gateway notices the closed socket a moment after the charger left.
    for _ in range(50):
        if not Charger.objects.get().online:
            break
        time.sleep(0.05)
    assert Charger.objects.get().online is False


def test_wrong_password_and_unknown_identity_are_refused_at_the_handshake(gateway, home):
    for identity, password in [("HOME-1", "wrong-password-000000"), ("NOBODY", PASSWORD)]:
        with pytest.raises(InvalidStatus) as refused:
            run_async(open_connection(gateway, identity, password, "1.6"))
        assert refused.value.response.status_code == 401


def test_1_6_retransmitted_start_and_stop_make_one_session(gateway, home):
    async def scenario() -> None:
        connection = await open_connection(gateway, "HOME-1", PASSWORD, "1.6")
        charger = Charger16("HOME-1", connection)
        listener = asyncio.create_task(charger.start())
        from ocpp.v16 import call

        start = session_at(2)
        start_call = call.StartTransaction(
            connector_id=1, id_tag="HOME", meter_start=500, timestamp=start.start.isoformat()
        )
        first = await charger.call(start_call)
        again = await charger.call(start_call)  # the charger did not see our answer
        assert first.transaction_id == again.transaction_id
        stop = call.StopTransaction(
            meter_stop=7500,
            timestamp=timezone.now().isoformat(),
            transaction_id=first.transaction_id,
        )
        await charger.call(stop)
        await charger.call(stop)
        listener.cancel()
        await connection.close()

    run_async(scenario())
    session = ChargingSession.objects.get()
    assert session.energy_wh == 7000 and session.status == "completed"


def test_1_6_stop_for_an_unknown_transaction_is_kept_and_flagged(gateway, home):
    async def scenario() -> None:
        connection = await open_connection(gateway, "HOME-1", PASSWORD, "1.6")
        charger = Charger16("HOME-1", connection)
        listener = asyncio.create_task(charger.start())
        from ocpp.v16 import call

        await charger.call(
            call.StopTransaction(
                meter_stop=9000, timestamp=timezone.now().isoformat(), transaction_id=424242
            )
        )
        listener.cancel()
        await connection.close()

    run_async(scenario())
    session = ChargingSession.objects.get()
    assert session.transaction_id == "424242"
    assert "StopTransaction for an unknown transaction" in session.flags


def test_2_0_1_reconnect_mid_session_and_an_offline_queue_replayed_late(gateway, home):
    async def scenario() -> None:
        first = await open_connection(gateway, "HOME-1", PASSWORD, "2.0.1")
        charger = Charger201("HOME-1", first)
        listener = asyncio.create_task(charger.start())
        events = charger.session_events(session_at(5), transaction_id="TX-OFFLINE-1")
        await charger.call(events[0])  # Started, then the connection drops
        listener.cancel()
        await first.close()
        second = await open_connection(gateway, "HOME-1", PASSWORD, "2.0.1")
        charger = Charger201("HOME-1", second)
        listener = asyncio.create_task(charger.start())
        for event in [*events[1:], events[0], events[2]]:  # late queue, with repeats
            await charger.call(event)
        listener.cancel()
        await second.close()

    run_async(scenario())
    session = ChargingSession.objects.get()
    assert session.transaction_id == "TX-OFFLINE-1"
    assert session.energy_wh == 6000 and session.status == "completed"
    assert session.last_seq_no == 4
    assert MeterReading.objects.filter(session=session).count() == 5


def test_2_0_1_ended_before_started_still_makes_one_right_session(gateway, home):
    async def scenario() -> None:
        connection = await open_connection(gateway, "HOME-1", PASSWORD, "2.0.1")
        charger = Charger201("HOME-1", connection)
        listener = asyncio.create_task(charger.start())
        events = charger.session_events(session_at(4), transaction_id="TX-LATE")
        for event in reversed(events):
            await charger.call(event)
        listener.cancel()
        await connection.close()

    run_async(scenario())
    session = ChargingSession.objects.get()
    assert session.started_at is not None and session.duration == timedelta(hours=1)
    assert session.energy_wh == 6000
    assert any("arrived before Started" in f for f in session.flags)


def test_bad_frames_get_answers_or_records_and_the_connection_stays_up(gateway, home):
    async def scenario() -> list[str]:
        connection = await open_connection(gateway, "HOME-1", PASSWORD, "1.6")
        answers = []
        await connection.send("this is not json")
        await connection.send(json.dumps([2, "u1", "NoSuchAction", {}]))
        answers.append(await connection.recv())
        await connection.send(json.dumps([2, "u2", "BootNotification", {"chargePointVendor": 5}]))
        answers.append(await connection.recv())
        await connection.send(json.dumps([2, "u3", "Heartbeat", {}]))  # still served
        answers.append(await connection.recv())
        await connection.close()
        return [str(a) for a in answers]

    not_implemented, violation, heartbeat = run_async(scenario())
    assert json.loads(not_implemented)[0] == 4 and json.loads(not_implemented)[2] in (
        "NotImplemented",
        "NotSupported",
    )
    assert json.loads(violation)[0] == 4
    assert json.loads(heartbeat)[0] == 3 and "currentTime" in json.loads(heartbeat)[2]
    assert ProtocolIssue.objects.filter(kind="Unreadable frame", raw="this is not json").exists()


def test_decreasing_meter_readings_are_flagged_not_dropped(gateway, home):
    session = SimulatedSession(
        start=timezone.now() - timedelta(hours=2),
        meter_start_wh=10_000,
        steps_wh=[1000, -400, 1400],
    )
    run_async(run_charger(gateway, "HOME-1", PASSWORD, "1.6", [session]))
    recorded = ChargingSession.objects.get()
    assert any("meter went down" in f for f in recorded.flags)
    assert recorded.energy_wh == 2000


def test_sessions_from_the_gateway_are_served_by_the_api(gateway, home, api_key_for, client):
    run_async(run_charger(gateway, "HOME-1", PASSWORD, "2.0.1", [session_at(6), session_at(3)]))
    body = client.get(
        "/api/v1/charging-sessions?charger=HOME-1",
        headers=api_key_for(home["connection"].organisation),
    ).json()
    assert body["count"] == 2
    assert {s["energy_wh"] for s in body["items"]} == {6000}
    assert all(
        s["driver_email"] == "dan@example.com" and s["duration_seconds"] == 3600
        for s in body["items"]
    )


def test_an_absurd_timestamp_is_kept_and_flagged(gateway, home):
    long_ago = SimulatedSession(start=timezone.now() - timedelta(days=800), meter_start_wh=0)
    run_async(run_charger(gateway, "HOME-1", PASSWORD, "1.6", [long_ago]))
    session = ChargingSession.objects.get()
    assert session.energy_wh == 6000
    assert any("more than a year old" in f for f in session.flags)


def test_every_acknowledged_meter_value_is_in_the_database(gateway, home, world):
    """Chargers reporting together (one batch holds several): each answer comes only
    after its reading is committed, so when the chargers have their answers, every
    reading is there, once."""
    for i in (2, 3, 4):
        charger_register(
            actor=None,
            organisation=world.org_a,
            identity=f"HOME-{i}",
            serial=f"SN{i}",
            password=PASSWORD,
        )
    start = timezone.now() - timedelta(hours=2)

    async def charger(identity: str) -> int:
        connection = await open_connection(gateway, identity, PASSWORD, "1.6")
        stamp = start.isoformat()
        await connection.send(
            json.dumps(
                [
                    2,
                    "s",
                    "StartTransaction",
                    {"connectorId": 1, "idTag": "HOME", "meterStart": 0, "timestamp": stamp},
                ]
            )
        )
        transaction_id = json.loads(await connection.recv())[2]["transactionId"]
        acked = 0
        for n in range(1, 31):
            at = (start + timedelta(minutes=n)).isoformat()
            frame = {
                "connectorId": 1,
                "transactionId": transaction_id,
                "meterValue": [{"timestamp": at, "sampledValue": [{"value": str(n * 100)}]}],
            }
            await connection.send(json.dumps([2, f"m{n}", "MeterValues", frame]))
            answer = json.loads(await connection.recv())
            acked += answer[0] == 3
        await connection.close()
        return acked

    async def all_chargers() -> list[int]:
        return await asyncio.gather(*(charger(f"HOME-{i}") for i in (1, 2, 3, 4)))

    assert run_async(all_chargers()) == [30, 30, 30, 30]
    assert MeterReading.objects.count() == 120
    assert sorted(ChargingSession.objects.values_list("energy_wh", flat=True)) == [3000] * 4


def test_2_0_1_updated_readings_take_the_batch_fast_path_over_a_real_socket(
    gateway, home, monkeypatch
):
    from evdms.charging.ocpp import persist

    one_at_a_time: list[str] = []
    core = persist.transaction_event_v201

    def counted(*args):
        one_at_a_time.append(args[1])
        core(*args)

    monkeypatch.setattr(persist, "transaction_event_v201", counted)
    session = SimulatedSession(
        start=timezone.now() - timedelta(hours=3), meter_start_wh=50_000, steps_wh=[700] * 6
    )
    run_async(run_charger(gateway, "HOME-1", PASSWORD, "2.0.1", [session]))
    # Started brings the first reading; every Updated after it is plain.
    assert one_at_a_time == ["Started", "Ended"]
    stored = ChargingSession.objects.get()
    assert stored.status == "completed" and stored.energy_wh == 4200
    assert stored.meter_start_wh == 50_000 and stored.last_seq_no == 6
    assert MeterReading.objects.filter(session=stored).count() == 7
