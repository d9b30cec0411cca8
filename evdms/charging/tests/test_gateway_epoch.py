"""A charger that connects again while its old socket is still open (to this gateway
process or another one sharing the database): the newest connection wins, the older one
is closed, and nothing it sends afterwards is stored or acknowledged."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from evdms.charging import services
from evdms.charging.models import Charger, ChargingSession, MeterReading
from evdms.charging.ocpp.common import Superseded
from evdms.charging.ocpp.handlers_v16 import start_transaction_v16, stop_transaction_v16
from evdms.charging.ocpp.persist import Call, Connect, MeterValues16, SessionMemory, _run_batch
from evdms.charging.simulator import open_connection
from evdms.testing.aio import run_async

PASSWORD = "a-charger-password-1234"
SUPERSEDED = (4000, "superseded by a newer connection")
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chargers(world) -> list[Charger]:
    made = []
    for identity in ("HOME-1", "HOME-2"):
        charger, _ = services.charger_register(
            actor=None,
            organisation=world.org_a,
            identity=identity,
            serial=f"SN-{identity}",
            password=PASSWORD,
        )
        made.append(charger)
    return made


START = timezone.now().replace(microsecond=0) - timedelta(hours=2)


def meter_value(minutes: int, wh: int, sampled: str = "sampledValue") -> list[dict[str, Any]]:
    """On the wire; ``sampled="sampled_value"`` as the handlers hand it to the batch."""
    at = (START + timedelta(minutes=minutes)).isoformat()
    return [
        {
            "timestamp": at,
            sampled: [
                {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
            ],
        }
    ]


async def send(connection: ClientConnection, action: str, payload: dict[str, Any]) -> str:
    unique_id = uuid.uuid4().hex
    await connection.send(json.dumps([2, unique_id, action, payload]))
    return unique_id


async def ask(connection: ClientConnection, action: str, payload: dict[str, Any]) -> Any:
    """A call and its CallResult's payload (a CallError fails the test)."""
    unique_id = await send(connection, action, payload)
    reply = json.loads(await asyncio.wait_for(connection.recv(), 10))
    assert reply[:2] == [3, unique_id], reply
    return reply[2]


async def start(connection: ClientConnection, meter_start: int = 1000) -> int:
    payload = {"connectorId": 1, "idTag": "HOME", "meterStart": meter_start}
    started = await ask(connection, "StartTransaction", {**payload, "timestamp": START.isoformat()})
    return int(started["transactionId"])


def meter_values(transaction_id: int, minutes: int, wh: int) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": meter_value(minutes, wh),
    }


async def closed_as_superseded(connection: ClientConnection) -> tuple[int, str]:
    """How the gateway closed the connection; anything it sent first fails the test."""
    with pytest.raises(ConnectionClosed) as closed:
        frame = await asyncio.wait_for(connection.recv(), 10)
        pytest.fail(f"answered before closing: {frame!r}")
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def readings(transaction_id: int) -> list[int]:
    return list(
        MeterReading.objects.filter(session_id=transaction_id)
        .order_by("at")
        .values_list("value_wh", flat=True)
    )


def test_a_newer_connection_closes_the_older_and_the_charger_stays_online(gateway, chargers):
    async def scenario() -> int:
        old = await open_connection(gateway, "HOME-1", PASSWORD, "1.6")
        transaction_id = await start(old)
        await ask(old, "MeterValues", meter_values(transaction_id, 10, 2000))
        new = await open_connection(gateway, "HOME-1", PASSWORD, "1.6")
        assert await closed_as_superseded(old) == SUPERSEDED
        with pytest.raises(ConnectionClosed):
            await send(old, "MeterValues", meter_values(transaction_id, 20, 9000))
        await ask(new, "MeterValues", meter_values(transaction_id, 20, 2500))
        await asyncio.sleep(0.3)  # the old connection's handler has ended by now
        assert (await Charger.objects.aget(identity="HOME-1")).online is True
        await new.close()
        return transaction_id

    transaction_id = run_async(scenario())
    assert readings(transaction_id) == [2000, 2500]
    assert ChargingSession.objects.get().energy_wh == 1500
    for _ in range(50):  # the newest connection's close does turn it off
        if not Charger.objects.get(identity="HOME-1").online:
            break
        time.sleep(0.05)
    assert Charger.objects.get(identity="HOME-1").online is False


def test_a_write_from_a_connection_another_process_superseded_is_refused_and_closed(
    gateway, chargers
):
    async def scenario() -> tuple[int, int]:
        first = await open_connection(gateway, "HOME-1", PASSWORD, "1.6")
        second = await open_connection(gateway, "HOME-2", PASSWORD, "1.6")
        one, two = await start(first), await start(second)
        await ask(first, "MeterValues", meter_values(one, 10, 2000))
        # What another gateway process does when the charger connects to it.
        await Charger.objects.filter(identity="HOME-1").aupdate(
            connection_epoch=F("connection_epoch") + 1
        )
        await send(first, "MeterValues", meter_values(one, 20, 3000))
        stored = asyncio.create_task(ask(second, "MeterValues", meter_values(two, 20, 4000)))
        assert await closed_as_superseded(first) == SUPERSEDED
        await stored
        await second.close()
        return one, two

    one, two = run_async(scenario())
    assert readings(one) == [2000]
    assert readings(two) == [4000]
    # The charger is online on the other process: this one's close leaves it so.
    time.sleep(0.3)
    assert Charger.objects.get(identity="HOME-1").online is True


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
def test_a_connection_another_process_took_over_is_closed_at_its_next_heartbeat(
    gateway, chargers, protocol
):
    async def scenario() -> object:
        connection = await open_connection(gateway, "HOME-1", PASSWORD, protocol)
        await ask(connection, "Heartbeat", {})
        before = (await Charger.objects.aget(identity="HOME-1")).last_heartbeat_at
        await Charger.objects.filter(identity="HOME-1").aupdate(
            connection_epoch=F("connection_epoch") + 1
        )
        await send(connection, "Heartbeat", {})
        assert await closed_as_superseded(connection) == SUPERSEDED
        return before

    before = run_async(scenario())
    assert before is not None
    assert Charger.objects.get(identity="HOME-1").last_heartbeat_at == before


def test_a_batch_stores_nothing_of_a_superseded_connection_and_all_of_the_others(chargers):
    a, b = chargers
    at: datetime = START
    ta = start_transaction_v16(a.pk, 1, "HOME", 1000, at)
    tb = start_transaction_v16(b.pk, 1, "HOME", 1000, at)
    old_a = services.charger_connected(a.pk, "ocpp1.6")
    epoch_b = services.charger_connected(b.pk, "ocpp1.6")
    memory = SessionMemory()

    def handed(minutes: int, wh: int) -> list[dict[str, Any]]:
        return meter_value(minutes, wh, "sampled_value")

    # Remembered by the fast path, before the charger moved on.
    assert _run_batch([MeterValues16(a.pk, ta, handed(10, 2000), old_a)], memory) == [(True, None)]
    new_a = services.charger_connected(a.pk, "ocpp1.6")
    assert new_a > old_a
    results = _run_batch(
        [
            MeterValues16(a.pk, ta, handed(20, 3000), old_a),
            MeterValues16(b.pk, tb, handed(20, 4000), epoch_b),
            Call(
                stop_transaction_v16,
                (a.pk, ta, 3500, START + timedelta(minutes=30)),
                old_a,
            ),
            MeterValues16(a.pk, ta, handed(25, 3200), new_a),
        ],
        memory,
    )
    assert [ok for ok, _ in results] == [False, True, False, True]
    assert isinstance(results[0][1], Superseded) and isinstance(results[2][1], Superseded)
    assert readings(ta) == [2000, 3200]
    assert readings(tb) == [4000]
    assert ChargingSession.objects.get(pk=ta).status == "active"


def test_a_new_connection_in_a_batch_refuses_what_its_old_one_queued_after_it(chargers):
    a, b = chargers
    ta = start_transaction_v16(a.pk, 1, "HOME", 1000, START)
    old_a = services.charger_connected(a.pk, "ocpp1.6")
    epoch_b = services.charger_connected(b.pk, "ocpp1.6")
    memory = SessionMemory()

    def mv(minutes: int, wh: int, epoch: int) -> MeterValues16:
        return MeterValues16(a.pk, ta, meter_value(minutes, wh, "sampled_value"), epoch)

    assert _run_batch([mv(10, 2000, old_a)], memory) == [(True, None)]  # remembered
    results = _run_batch(
        [
            mv(20, 3000, old_a),  # queued before the charger connected again: kept
            Connect(a.pk, "ocpp2.0.1"),
            Connect(b.pk, "ocpp1.6"),
            mv(30, 4000, old_a),  # its old socket, after the new one won: refused
            Call(services.charger_seen, (a.pk, old_a)),  # a boot checks for itself: not seen
            mv(40, 5000, old_a + 1),  # the new connection's
        ],
        memory,
    )
    assert [ok for ok, _ in results] == [True, True, True, False, True, True]
    assert results[1] == (True, old_a + 1) and results[2] == (True, epoch_b + 1)
    assert isinstance(results[3][1], Superseded) and results[4] == (True, False)
    assert readings(ta) == [2000, 3000, 5000]
    charger = Charger.objects.get(pk=a.pk)
    assert charger.connection_epoch == old_a + 1 and charger.protocol == "ocpp2.0.1"
    # And the same connections as batches of their own say the same.
    assert _run_batch([mv(50, 6000, old_a)], memory)[0][0] is False


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
def test_a_superseded_connection_cannot_overwrite_the_connector_status(gateway, chargers, protocol):
    if protocol == "1.6":
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
        faulted = {**status, "status": "Faulted"}
    else:
        status = {
            "timestamp": timezone.now().isoformat(),
            "connectorStatus": "Available",
            "evseId": 1,
            "connectorId": 1,
        }
        faulted = {**status, "connectorStatus": "Faulted"}

    async def scenario() -> None:
        connection = await open_connection(gateway, "HOME-1", PASSWORD, protocol)
        await ask(connection, "StatusNotification", status)
        await Charger.objects.filter(identity="HOME-1").aupdate(
            connection_epoch=F("connection_epoch") + 1
        )
        await send(connection, "StatusNotification", faulted)
        assert await closed_as_superseded(connection) == SUPERSEDED

    run_async(scenario())
    assert Charger.objects.get(identity="HOME-1").connector_status == {"1": "Available"}


def test_a_superseded_connection_cannot_leave_a_data_transfer_issue(gateway, chargers):
    from evdms.charging.models import ProtocolIssue

    async def scenario() -> None:
        connection = await open_connection(gateway, "HOME-1", PASSWORD, "1.6")
        await ask(connection, "DataTransfer", {"vendorId": "acme", "data": "first"})
        await Charger.objects.filter(identity="HOME-1").aupdate(
            connection_epoch=F("connection_epoch") + 1
        )
        await send(connection, "DataTransfer", {"vendorId": "acme", "data": "second"})
        assert await closed_as_superseded(connection) == SUPERSEDED

    run_async(scenario())
    kept = list(
        ProtocolIssue.objects.filter(charger__identity="HOME-1").values_list("detail", flat=True)
    )
    assert len(kept) == 1 and "first" in kept[0]
