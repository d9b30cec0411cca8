"""What chargers report is bounded before it becomes money or a page: through the real
gateway, frames as a charger sends them, the answers it gets and what is stored."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from evdms.charging.models import ChargingSession, MeterReading, ProtocolIssue
from evdms.charging.simulator import open_connection
from evdms.charging.tests.test_gateway import PASSWORD, home  # noqa: F401 (a fixture)
from evdms.testing.aio import run_async
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def iso(delta: timedelta = timedelta()) -> str:
    return (timezone.now() + delta).isoformat()


def exchange(url: str, protocol: str, frames: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Send each (action, payload) as a CALL on one connection; the answers, in order."""

    async def talk() -> list[Any]:
        connection = await open_connection(url, "HOME-1", PASSWORD, protocol)
        answers = []
        for number, (action, payload) in enumerate(frames):
            await connection.send(json.dumps([2, f"m{number}", action, payload]))
            answers.append(json.loads(await connection.recv()))
        await connection.close()
        return answers

    return run_async(talk())


def start_16(meter_start: int = 0, timestamp: str | None = None) -> tuple[str, dict[str, Any]]:
    return (
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "HOME",
            "meterStart": meter_start,
            "timestamp": timestamp or iso(-timedelta(hours=2)),
        },
    )


def stop_16(transaction_id: int, meter_stop: int, timestamp: str | None = None) -> Any:
    return (
        "StopTransaction",
        {"transactionId": transaction_id, "meterStop": meter_stop, "timestamp": timestamp or iso()},
    )


def error_code(answer: list[Any]) -> str:
    assert answer[0] == 4, answer  # a CallError
    return str(answer[2])


def test_a_meter_stop_of_2_to_the_53_is_held_for_review_not_reimbursed(gateway, home):  # noqa: F811
    (started,) = exchange(gateway, "1.6", [start_16(0)])
    (stopped,) = exchange(gateway, "1.6", [stop_16(started[2]["transactionId"], 2**53)])
    assert stopped[0] == 3  # acknowledged: the charger has nothing to resend
    session = ChargingSession.objects.get()
    assert session.status == "completed" and session.review == "pending"
    assert session.energy_wh == 0  # the charger's figure is kept in the flag and meter stop
    assert session.meter_stop_wh == 2**53
    assert any("9007199254740992 Wh beyond what can be reimbursed" in f for f in session.flags)


def test_more_than_the_ceiling_or_the_connector_can_deliver_is_held(gateway, home, settings):  # noqa: F811
    settings.MAX_SESSION_WH = 100_000
    (first, second) = exchange(
        gateway,
        "1.6",
        [start_16(0, iso(-timedelta(hours=10))), start_16(1_000_000, iso(-timedelta(hours=2)))],
    )
    exchange(
        gateway,
        "1.6",
        [
            stop_16(first[2]["transactionId"], 150_000),  # 150 kWh: above the 100 kWh ceiling
            # 60 kWh in 2 hours: more than 22 kW delivers, though under the ceiling.
            stop_16(second[2]["transactionId"], 1_060_000),
        ],
    )
    over_ceiling = ChargingSession.objects.get(meter_start_wh=0)
    too_fast = ChargingSession.objects.get(meter_start_wh=1_000_000)
    assert over_ceiling.review == "pending" and over_ceiling.energy_wh == 150_000
    assert any("above the ceiling of 100000 Wh" in f for f in over_ceiling.flags)
    assert too_fast.review == "pending" and too_fast.energy_wh == 60_000
    assert any("22 kW connector" in f for f in too_fast.flags)


def test_a_plausible_session_is_not_held(gateway, home):  # noqa: F811
    (started,) = exchange(gateway, "1.6", [start_16(5_000)])
    exchange(gateway, "1.6", [stop_16(started[2]["transactionId"], 25_000)])  # 20 kWh in 2 h
    session = ChargingSession.objects.get()
    assert session.review == "" and session.energy_wh == 20_000


def test_unparseable_times_and_values_no_column_holds_get_proper_call_errors(gateway, home):  # noqa: F811
    (started,) = exchange(gateway, "1.6", [start_16(0)])
    transaction_id = started[2]["transactionId"]
    huge_reading = {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [
            {"timestamp": iso(), "sampledValue": [{"value": str(10**22), "unit": "kWh"}]}
        ],
    }
    answers = exchange(
        gateway,
        "1.6",
        [
            start_16(0, "the day before yesterday"),
            ("MeterValues", huge_reading),
            stop_16(10**30, 5000),
            start_16(10**20),
            (
                "StatusNotification",
                {"connectorId": 10**12, "errorCode": "NoError", "status": "Available"},
            ),
            ("Heartbeat", {}),
        ],
    )
    codes = [error_code(a) for a in answers[:5]]
    assert codes == ["FormatViolation"] + ["PropertyConstraintViolation"] * 4
    assert answers[5][0] == 3  # the connection is still served
    assert not MeterReading.objects.exists()
    assert ChargingSession.objects.count() == 1  # only the first, good start
    assert ProtocolIssue.objects.filter(kind="Refused value").count() == 5
    assert (
        "10000000000000000000000"
        in ProtocolIssue.objects.filter(kind="Refused value", detail__contains="meter value")
        .get()
        .raw
    )


def test_2_0_1_values_beyond_their_columns_are_refused(gateway, home):  # noqa: F811
    def event(**changes: Any) -> tuple[str, dict[str, Any]]:
        payload = {
            "eventType": "Started",
            "timestamp": iso(),
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "TX-1"},
            **changes,
        }
        return ("TransactionEvent", payload)

    answers = exchange(
        gateway,
        "2.0.1",
        [
            event(timestamp="31/12/2026"),
            event(seqNo=2**40),
            event(evse={"id": 10**9, "connectorId": 1}),
            event(
                meterValue=[
                    {
                        "timestamp": iso(),
                        "sampledValue": [
                            {"value": 1e22, "unitOfMeasure": {"unit": "kWh", "multiplier": 0}}
                        ],
                    }
                ]
            ),
        ],
    )
    assert [error_code(a) for a in answers] == ["FormatViolation"] + [
        "PropertyConstraintViolation"
    ] * 3
    assert not ChargingSession.objects.exists()


ABSURD = "9999-12-31T23:59:59Z"


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
def test_a_start_dated_9999_is_stored_at_its_arrival_and_every_page_still_renders(
    gateway,
    home,  # noqa: F811
    world,
    api_key_for,
    protocol,
):
    before = timezone.now()
    if protocol == "1.6":
        (started,) = exchange(gateway, "1.6", [start_16(0, ABSURD)])
        exchange(gateway, "1.6", [stop_16(started[2]["transactionId"], 1000, ABSURD)])
    else:
        base = {"triggerReason": "Authorized", "transactionInfo": {"transactionId": "TX-9"}}
        exchange(
            gateway,
            "2.0.1",
            [
                (
                    "TransactionEvent",
                    {**base, "eventType": "Started", "timestamp": ABSURD, "seqNo": 0},
                ),
                (
                    "TransactionEvent",
                    {**base, "eventType": "Ended", "timestamp": ABSURD, "seqNo": 1},
                ),
            ],
        )
    session = ChargingSession.objects.get()
    assert session.started_at is not None and session.ended_at is not None
    assert before <= session.started_at <= timezone.now()
    assert before <= session.ended_at <= timezone.now()
    assert session.review == "pending"
    assert any("9999-12-31" in f and "the time it arrived is used" in f for f in session.flags)

    admin = client_for(world.nadia)
    for url in [
        "/home-charging/",
        "/reports/transactions/",
        "/statements/",
        f"/chargers/{home['charger'].pk}/",
    ]:
        assert admin.get(url).status_code == 200, url
    key = api_key_for(world.org_a)
    export = Client().get("/api/v1/reports/transactions.csv", headers=key)
    assert export.status_code == 200 and b"HOME-1" in b"".join(export.streaming_content)  # type: ignore[attr-defined]
    assert Client().get("/api/v1/charging-sessions", headers=key).json()["count"] == 1
    driver = home["dan"]
    own = Client()
    own.force_login(driver, backend="evdms.accounts.backends.EmailBackend")
    for url in ["/my/charging/", "/my/reimbursement/"]:
        assert own.get(url).status_code == 200, url
