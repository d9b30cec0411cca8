"""The gateway's hot path for 1.6 MeterValues and 2.0.1 TransactionEvent
(``ocpp/hot_calls.py``) answers exactly as the ocpp package's own routing does: the same
frames back, byte for byte, the same arguments to the handler, the same protocol issues
kept, for valid payloads and for payloads broken anywhere; and the readings it stores
through the real handlers are the same."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import ocpp.charge_point
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ocpp.exceptions import FormatViolationError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201

from evdms.charging import bounds
from evdms.charging.models import ChargingSession
from evdms.charging.ocpp import common, hot_calls
from evdms.charging.ocpp.common import RecordingMixin, refusing
from evdms.charging.ocpp.handlers_v16 import CentralSystem16
from evdms.charging.ocpp.handlers_v201 import CentralSystem201
from evdms.charging.tests.test_package_speed import FRAMES, JUNK, _paths, _replaced

UPDATED = FRAMES[3]
HOT_FRAMES: list[list[Any]] = [
    FRAMES[1],  # 1.6 MeterValues
    FRAMES[2],  # 2.0.1 TransactionEvent Started
    UPDATED,
    [  # with the optional fields a charger may add, and an idToken (answered with its status)
        2,
        "5",
        "TransactionEvent",
        {
            **UPDATED[3],
            "offline": False,
            "numberOfPhasesUsed": 3,
            "idToken": {"idToken": "HOME-TAG", "type": "ISO14443"},
            "evse": {"id": 1, "connectorId": 1},
            "customData": {"vendorId": "acme", "x": 1},
        },
    ],
]

# What a handler may do: answer with nothing set, answer with a field, answer what the
# answer's schema refuses, refuse a value (``refusing``), or fail.
OUTCOMES = ["empty", "id_token", "bad_answer", "unstorable", "format", "crash", "sync"]
MESSAGE_IDS = st.one_of(
    st.text(max_size=40), st.integers(), st.floats(allow_nan=False), st.none(), JUNK
)


class Wire:
    """A connection that keeps what is sent on it."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def close(self, *args: Any) -> None:
        raise AssertionError("not closed in these tests")


def _answer(outcome: str, version: str) -> Any:
    results = result16 if version == "1.6" else result201
    if outcome == "unstorable":
        raise bounds.Unstorable("seqNo", "seqNo 99 is outside 0 … 9")
    if outcome == "format":
        raise FormatViolationError(description="timestamp: not RFC 3339")
    if outcome == "crash":
        raise RuntimeError("the database went away")
    if version == "1.6":
        # MeterValues.conf has no fields: 1.6's "set a field" is an unknown one.
        return results.MeterValues() if outcome in ("empty", "sync") else _Odd16(note="x")
    if outcome == "id_token":
        return results.TransactionEvent(id_token_info={"status": "Accepted"})
    if outcome == "bad_answer":
        return results.TransactionEvent(total_cost="nothing")  # the schema wants a number
    return results.TransactionEvent()


@dataclasses.dataclass
class _Odd16:
    note: str | None = None


class Recorder:
    """Keeps what its handler got, and does what the test asks."""

    outcome = "empty"

    def setup(self) -> None:
        self.got: list[dict[str, Any]] = []


class Point16(Recorder, RecordingMixin, ChargePoint16):
    hot_actions = frozenset({"MeterValues"})

    @on("MeterValues")
    @refusing
    async def on_meter_values(self, **kw: Any) -> Any:
        self.got.append(kw)
        return _answer(self.outcome, "1.6")


class Point201(Recorder, RecordingMixin, ChargePoint201):
    hot_actions = frozenset({"TransactionEvent"})

    @on("TransactionEvent")
    @refusing
    async def on_transaction_event(self, **kw: Any) -> Any:
        self.got.append(kw)
        return _answer(self.outcome, "2.0.1")


class SyncPoint201(Recorder, RecordingMixin, ChargePoint201):
    """A handler that is not a coroutine (the package allows both)."""

    hot_actions = frozenset({"TransactionEvent"})

    @on("TransactionEvent")
    def on_transaction_event(self, **kw: Any) -> Any:
        self.got.append(kw)
        return result201.TransactionEvent()


@pytest.fixture
def issues(monkeypatch) -> list[tuple[Any, ...]]:
    kept: list[tuple[Any, ...]] = []
    monkeypatch.setattr(common, "protocol_issue", lambda *args: kept.append(args))
    return kept


def _run(cls: type, raw: str, outcome: str, hot: bool, issues: list[tuple[Any, ...]]) -> Any:
    point: Any = cls("HOME-1", Wire())
    point.setup()
    point.charger_id, point.epoch, point.outcome = 1, 1, outcome
    if not hot:
        point.hot_actions = frozenset()
    del issues[:]
    asyncio.run(point.route_message(raw))
    return point._connection.sent, point.got, list(issues)


def _cls(frame: list[Any], outcome: str) -> type:
    if frame[2] == "MeterValues":
        return Point16
    return SyncPoint201 if outcome == "sync" else Point201


@pytest.mark.parametrize("frame", HOT_FRAMES, ids=lambda f: f"{f[2]}-{f[1]}")
# ``issues`` is emptied by each ``_run``: one list for all examples is what is wanted.
@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_hot_path_answers_as_the_package_does(frame, data, issues) -> None:
    """Any payload (valid, or broken at any one place), any message id, any outcome."""
    payload = frame[3]
    if data.draw(st.booleans()):
        path = data.draw(st.sampled_from(_paths(payload)))
        payload = _replaced(payload, path, data.draw(JUNK))
    outcome = data.draw(st.sampled_from(OUTCOMES))
    raw = json.dumps([2, data.draw(MESSAGE_IDS), frame[2], payload])
    cls = _cls(frame, outcome)
    assert _run(cls, raw, outcome, True, issues) == _run(cls, raw, outcome, False, issues)


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("frame", HOT_FRAMES, ids=lambda f: f"{f[2]}-{f[1]}")
def test_each_outcome_of_a_valid_frame_answers_as_the_package_does(frame, outcome, issues) -> None:
    raw = json.dumps(frame)
    cls = _cls(frame, outcome)
    hot = _run(cls, raw, outcome, True, issues)
    assert hot == _run(cls, raw, outcome, False, issues)
    sent = json.loads(hot[0][0])
    expected = {
        "empty": [3, frame[1], {}],
        "sync": [3, frame[1], {}],
        "id_token": [3, frame[1], {"idTokenInfo": {"status": "Accepted"}}],
    }
    if frame[2] == "TransactionEvent" and outcome in expected:
        assert sent == expected[outcome]
    elif outcome in ("unstorable", "format", "crash", "bad_answer"):
        assert sent[0] == 4  # a CallError, as from the package


def test_other_frames_and_messages_go_the_packages_way(issues, monkeypatch) -> None:
    """Junk, other actions and CallResults: exactly as before, through the package."""
    frames = [
        "not json",
        "[2]",
        '{"a": 1}',
        json.dumps([3, "9", {}]),
        json.dumps(FRAMES[0]),  # StartTransaction on a 1.6 point: not hot, not handled
        json.dumps([2, "7", ["MeterValues"], {}]),  # an action that is no string
        json.dumps([2, "8", "MeterValues", {}, "extra"]),
    ]
    for raw in frames:
        assert _run(Point16, raw, "empty", True, issues) == _run(
            Point16, raw, "empty", False, issues
        )


def test_a_valid_hot_frame_skips_the_packages_routing(issues, monkeypatch) -> None:
    """The point of it: no second parse, no ``inspect.signature``, no ``asdict``."""
    calls: list[str] = []
    real_handle = ocpp.charge_point.ChargePoint._handle_call
    real_signature = inspect.signature

    async def handle(self: Any, msg: Any) -> Any:
        calls.append("package _handle_call")
        return await real_handle(self, msg)

    def signature(*args: Any, **kwargs: Any) -> Any:
        calls.append("signature")
        return real_signature(*args, **kwargs)

    monkeypatch.setattr(ocpp.charge_point.ChargePoint, "_handle_call", handle)
    monkeypatch.setattr(ocpp.charge_point.inspect, "signature", signature)
    for handler in (Point16.on_meter_values, Point201.on_transaction_event):
        hot_calls._takes_unique_id(handler)  # read once per handler, ahead
    for frame in (FRAMES[1], UPDATED):
        cls = _cls(frame, "empty")
        sent, got, _ = _run(cls, json.dumps(frame), "empty", True, issues)
        assert sent == [f'[3,"{frame[1]}",{{}}]'] and len(got) == 1
    assert calls == []
    _run(Point201, json.dumps([2, "x", "TransactionEvent", {}]), "empty", True, issues)
    assert calls == ["package _handle_call"]  # an invalid payload: the package's CallError


def test_a_handler_wanting_the_message_id_is_left_to_the_package(issues) -> None:
    class WantsId(Recorder, RecordingMixin, ChargePoint201):
        hot_actions = frozenset({"TransactionEvent"})

        @on("TransactionEvent")
        async def on_transaction_event(self, call_unique_id: str, **kw: Any) -> Any:
            self.got.append({"id": call_unique_id})
            return result201.TransactionEvent()

    sent, got, _ = _run(WantsId, json.dumps(UPDATED), "empty", True, issues)
    assert got == [{"id": "4"}] and sent == ['[3,"4",{}]']


def test_the_real_handlers_are_hot_for_their_readings() -> None:
    assert CentralSystem16.hot_actions == {"MeterValues"}
    assert CentralSystem201.hot_actions == {"TransactionEvent"}


# Through the real handlers and the batch writer into the database: two chargers get the
# same frames, one through the hot path, one through the package's routing.


def _at(minutes: Any) -> str:
    if not isinstance(minutes, int):
        return str(minutes)  # not a time at all
    return (STORED_START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


STORED_START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def _reading_16(tx: Any, minutes: Any, wh: Any) -> dict[str, Any]:
    value = {"timestamp": _at(minutes), "sampledValue": [{"value": wh, "unit": "Wh"}]}
    return {"connectorId": 1, "transactionId": tx, "meterValue": [value]}


def frames_16(tx: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("MeterValues", _reading_16(tx, 5, "1000")),
        ("MeterValues", _reading_16(tx, 10, "1500")),
        ("MeterValues", _reading_16(tx, 10, "1500")),  # retransmitted
        ("MeterValues", _reading_16(tx, 15, "1300")),  # the register went down
        ("MeterValues", _reading_16(tx, 20, "1800")),
        ("MeterValues", _reading_16(tx, 7, "1200")),  # late
        ("MeterValues", _reading_16(tx, 25, "not a number")),
        ("MeterValues", _reading_16(tx, 30, str(10**12))),  # no column holds it
        ("MeterValues", _reading_16(tx + 1000, 35, "2500")),  # an unknown transaction
        ("MeterValues", {**_reading_16(tx, 40, "2600"), "transactionId": "seven"}),  # schema
        ("MeterValues", {**_reading_16(tx, 45, "2700"), "colour": "red"}),  # unknown key
        ("MeterValues", _reading_16(tx, "later", "2800")),  # a bad timestamp
        ("MeterValues", _reading_16(tx, 50, "3000")),
        ("StopTransaction", {"meterStop": 3100, "timestamp": _at(55), "transactionId": tx}),
    ]


def _event_201(kind: str, seq: Any, minutes: Any, wh: Any = None, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": kind,
        "timestamp": _at(minutes),
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq,
        "transactionInfo": {"transactionId": "TX-1"},
        **extra,
    }
    if wh is not None:
        sample = {"value": wh, "unitOfMeasure": {"unit": "Wh"}}
        payload["meterValue"] = [{"timestamp": payload["timestamp"], "sampledValue": [sample]}]
    return payload


def frames_201() -> list[tuple[str, dict[str, Any]]]:
    token = {"idToken": "HOME", "type": "ISO14443"}
    return [
        ("TransactionEvent", _event_201("Updated", 1, 5, 1000)),  # before its Started
        ("TransactionEvent", _event_201("Started", 0, 0, 900, idToken=token)),
        ("TransactionEvent", _event_201("Updated", 2, 10, 1500)),
        ("TransactionEvent", _event_201("Updated", 2, 10, 1500)),  # retransmitted
        ("TransactionEvent", _event_201("Updated", 3, 15, 1300)),  # the register went down
        ("TransactionEvent", _event_201("Updated", 4, 20, 1800, idToken=token)),
        ("TransactionEvent", _event_201("Updated", 5, 7, 1200)),  # late
        ("TransactionEvent", _event_201("Updated", 6, 25, 2000, offline=True)),
        ("TransactionEvent", _event_201("Updated", 7, 30, 10**12)),  # no column holds it
        ("TransactionEvent", _event_201("Updated", -1, 35, 2100)),  # seqNo out of bounds
        ("TransactionEvent", _event_201("Updated", "8", 40, 2200)),  # schema: not an integer
        ("TransactionEvent", _event_201("Updated", 9, "yesterday", 2300)),  # bad timestamp
        ("TransactionEvent", _event_201("Updated", 10, 45, 2400, colour="red")),  # unknown key
        ("TransactionEvent", _event_201("Updated", 11, 50, 2500)),
        ("TransactionEvent", _event_201("Ended", 12, 55, 2600)),
    ]


async def _send_all(charger: Any, protocol: str, hot: bool) -> list[Any]:
    from evdms.charging.ocpp.persist import group_commit

    cls: Any = CentralSystem16 if protocol == "1.6" else CentralSystem201
    point = cls(charger.identity, Wire())
    point.charger_id = charger.pk
    point.epoch = await group_commit().connected(charger.pk, protocol)
    if not hot:
        point.hot_actions = frozenset()
    tx: Any = None
    if protocol == "1.6":
        start = {"connectorId": 1, "idTag": "HOME", "meterStart": 900, "timestamp": _at(0)}
        await point.route_message(json.dumps([2, "s", "StartTransaction", start]))
        tx = json.loads(point._connection.sent[-1])[2]["transactionId"]
    frames = frames_16(tx) if protocol == "1.6" else frames_201()
    for n, (action, payload) in enumerate(frames):
        await point.route_message(json.dumps([2, f"m{n}", action, payload]))
    answers = [json.loads(sent) for sent in point._connection.sent]
    if tx is not None:  # a 1.6 transaction id is a session's key: one per charger
        answers[0][2]["transactionId"] = "TX"
    return answers


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
def test_the_hot_path_stores_and_answers_what_the_package_route_does(
    world, protocol, monkeypatch
) -> None:
    from evdms.charging import services
    from evdms.charging.models import ProtocolIssue
    from evdms.charging.tests.test_transaction_event_batch import stored

    hot, cold = (
        services.charger_register(
            actor=None, organisation=world.org_a, identity=f"HOME-{name}", serial=name
        )[0]
        for name in ("HOT", "COLD")
    )

    handled_hot: list[str] = []
    real_handle = hot_calls.handle

    async def handle(central: Any, msg: Any, handler: Any) -> None:
        handled_hot.append(central.id)
        await real_handle(central, msg, handler)

    monkeypatch.setattr(hot_calls, "handle", handle)

    async def both() -> tuple[list[Any], list[Any]]:
        return await _send_all(hot, protocol, True), await _send_all(cold, protocol, False)

    hot_answers, cold_answers = asyncio.run(both())
    # The readings the schema accepts went the hot way (1.6: not the start, the stop and
    # two the schema refuses; 2.0.1: not the two it refuses); none of the other charger's.
    assert handled_hot == ["HOME-HOT"] * {"1.6": 11, "2.0.1": 13}[protocol]
    assert hot_answers == cold_answers
    assert [a[0] for a in hot_answers].count(4) >= 2  # CallErrors among them, as meant

    def rows(charger: Any) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "transaction_id"} for r in stored(charger)]

    def kept(charger: Any) -> list[tuple[str, str]]:
        issues = ProtocolIssue.objects.filter(charger=charger).order_by("pk")
        if protocol == "2.0.1":
            return [(i.kind, i.detail) for i in issues]
        tx = int(ChargingSession.objects.get(charger=charger).transaction_id)
        unknown = f"transaction {tx + 1000}:"  # the readings for an unknown transaction
        return [(i.kind, i.detail.replace(unknown, "transaction (unknown):")) for i in issues]

    assert rows(hot) == rows(cold) and len(rows(hot)) >= 1
    assert sum(len(r["readings"]) for r in rows(hot)) >= 6
    assert kept(hot) == kept(cold) and kept(hot)
