"""A charger sending junk, against the real gateway: the gateway's memory stays as it
was, an over-size message closes the connection (1009), and what is kept about the junk
is small and bounded per charger and hour."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import tracemalloc

import pytest
from django.conf import settings
from websockets.exceptions import ConnectionClosedError

from evdms.charging.models import ISSUES_OVER_LIMIT, ProtocolIssue
from evdms.charging.services import charger_register
from evdms.charging.simulator import open_connection
from evdms.testing.aio import run_async

PASSWORD = "a-charger-password-1234"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def charger(world):
    charger, _ = charger_register(
        actor=None, organisation=world.org_a, identity="JUNK-1", serial="SN1", password=PASSWORD
    )
    return charger


def junk(n: int, size: int) -> tuple[str, bool]:
    """The n-th junk frame of about ``size`` characters, and whether it gets an answer:
    not JSON; JSON but not OCPP; an OCPP call breaking its schema (a CallError); or one
    that a service cannot store (a meter reading out of any range: a CallError too)."""
    filler = f"{n:06d}" * (size // 6)
    match n % 4:
        case 0:
            return filler, False
        case 1:
            return json.dumps([filler, n]), False
        case 2:
            payload = {"chargePointVendor": filler, "chargePointModel": "M"}
            return json.dumps([2, f"j{n}", "BootNotification", payload]), True
        case _:
            at = "2026-11-01T10:00:00Z"
            sample = {"value": filler, "measurand": "Voltage"}
            stop: dict[str, object] = {
                "meterStop": 10**30,
                "timestamp": at,
                "transactionId": 1,
                "transactionData": [{"timestamp": at, "sampledValue": [sample]}],
            }
            return json.dumps([2, f"j{n}", "StopTransaction", stop]), True


async def heartbeat(connection) -> list:
    """Answered only once every frame sent before it was dealt with (one at a time)."""
    await connection.send(json.dumps([2, "hb", "Heartbeat", {}]))
    return json.loads(await asyncio.wait_for(connection.recv(), 30))


def test_hundreds_of_large_junk_frames_leave_the_gateways_memory_as_it_was(gateway, charger):
    """The gateway's garbage collector is tuned to come round rarely (thousands of
    sockets); here it is off, so memory only a collection would free stays taken, as it
    did in production (500 junk frames of 1 MB: from 105 MB to 1.1 GB)."""
    frames, size = 300, 200_000  # under the message limit, so each one is read and handled

    async def scenario() -> tuple[int, int]:
        longest_answer = 0
        connection = await open_connection(gateway, "JUNK-1", PASSWORD, "1.6")
        for n in range(4):  # first-time work (imports, caches, the database) not counted
            frame, answered = junk(n, size)
            await connection.send(frame)
            if answered:
                await connection.recv()
        assert (await heartbeat(connection))[0] == 3
        gc.collect()
        gc.disable()
        tracemalloc.start()
        try:
            for n in range(4, 4 + frames):
                frame, answered = junk(n, size)
                await connection.send(frame)
                del frame
                if answered:
                    answer = await asyncio.wait_for(connection.recv(), 30)
                    assert json.loads(answer)[0] == 4  # a CallError
                    longest_answer = max(longest_answer, len(answer))
            assert (await heartbeat(connection))[0] == 3  # still served
            retained, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            gc.enable()
        await connection.close()
        return retained, longest_answer

    retained, longest_answer = run_async(scenario())
    # Everything the gateway allocated for 300 frames of 200 kB (60 MB), still held when
    # the last was answered: a few frames' worth at most, not two copies of each.
    assert retained < 10 * size, f"{retained:,} bytes held after {frames} junk frames"
    assert longest_answer < 2_000  # a CallError does not echo the junk back


def test_a_charger_sending_junk_keeps_a_bounded_number_of_small_issues(gateway, charger):
    frames, size = 160, 50_000

    async def scenario() -> None:
        connection = await open_connection(gateway, "JUNK-1", PASSWORD, "1.6")
        for n in range(frames):
            frame, answered = junk(n, size)
            await connection.send(frame)
            if answered:
                await connection.recv()
        await heartbeat(connection)
        await connection.close()

    run_async(scenario())
    issues = ProtocolIssue.objects.filter(charger=charger)
    limit = settings.PROTOCOL_ISSUES_PER_CHARGER_HOUR
    # The calls among them are answered (CallError); a schema violation is not recorded,
    # a value no column holds (every fourth frame) is, as "Refused value".
    recorded = frames // 2 + frames // 4
    assert issues.count() == limit + 1
    summary = issues.get(kind=ISSUES_OVER_LIMIT)
    assert summary.occurrences == recorded - limit
    assert max(len(issue.raw) + len(issue.detail) for issue in issues) <= 1_000
    first = issues.exclude(kind=ISSUES_OVER_LIMIT).order_by("at").first()
    assert first is not None and first.raw.startswith("000000000000")
    assert first.raw.endswith(f"… ({size - size % 6} characters in all)")
    assert first.detail.startswith("FormatViolationError")


def test_a_message_over_the_limit_closes_the_connection_with_1009(gateway, charger):
    async def scenario() -> ConnectionClosedError:
        connection = await open_connection(gateway, "JUNK-1", PASSWORD, "1.6")
        await connection.send("x" * (settings.OCPP_MAX_MESSAGE_BYTES + 1))
        with pytest.raises(ConnectionClosedError) as closed:
            await asyncio.wait_for(connection.recv(), 10)
        return closed.value

    closed = run_async(scenario())
    assert closed.rcvd is not None and closed.rcvd.code == 1009
    for _ in range(100):  # recorded once the gateway has let the connection go
        issue = ProtocolIssue.objects.filter(charger=charger).first()
        if issue is not None:
            break
        time.sleep(0.05)
    assert issue is not None and issue.kind == "Message too large"
    assert issue.raw == "" and len(issue.detail) < 200
    assert f"exceeds limit of {settings.OCPP_MAX_MESSAGE_BYTES} bytes" in issue.detail
