"""CPU per message in the ``ocpp`` package's handling alone (parse, schema check, route,
answer, schema check of the answer), for 1.6 MeterValues and 2.0.1 TransactionEvent
``Updated``, with the package's own schema checks and with the compiled ones the gateway
installs, with keys renamed once (``evdms/charging/ocpp/package_speed.py``), and with
those and the gateway's hot path for these two CALLs (``ocpp/hot_calls.py``: parsed
once, the handler called directly, its empty answer written directly).

In one process, no sockets, no database: the handler answers at once and the connection
only collects the answers. CPU time of this process (``time.process_time``), so other
load on the machine changes the figures less than it changes a socket benchmark's.

    .venv/bin/python bench/ocpp_frames.py [--messages 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import ocpp.messages
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201

from bench.ocpp_gateway import reading_frame


class Collecting:
    """A connection that keeps nothing: the answers are counted."""

    def __init__(self) -> None:
        self.answers = 0

    async def send(self, message: str) -> None:
        self.answers += 1

    async def recv(self) -> str:  # never called: frames are routed directly
        raise NotImplementedError


class Bare16(ChargePoint16):
    @on(Action16.meter_values)
    def on_meter_values(self, **kw: Any) -> Any:
        return result16.MeterValues()


class Bare201(ChargePoint201):
    @on(Action201.transaction_event)
    def on_transaction_event(self, **kw: Any) -> Any:
        return result201.TransactionEvent()


def hot_points() -> tuple[type, type]:
    """The bare handlers on the gateway's ``RecordingMixin``, whose hot path answers
    these two CALLs without the package's generic routing (``ocpp/hot_calls.py``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import django

    django.setup()
    from evdms.charging.ocpp.common import RecordingMixin

    class Hot16(RecordingMixin, Bare16):
        hot_actions = frozenset({"MeterValues"})

    class Hot201(RecordingMixin, Bare201):
        hot_actions = frozenset({"TransactionEvent"})

    return Hot16, Hot201


async def per_message_us(protocol: str, messages: int, hot: bool = False) -> float:
    connection = Collecting()
    classes = hot_points() if hot else (Bare16, Bare201)
    point: Any = classes[0 if protocol == "1.6" else 1]("BENCH", connection)
    point.charger_id = 0  # (only a frame it cannot route would be kept, for this charger)
    transaction: Any = 7 if protocol == "1.6" else "BENCH-TX-00007"
    frames = [json.dumps(reading_frame(protocol, transaction, n)) for n in range(messages)]
    started = time.process_time()
    for frame in frames:
        await point.route_message(frame)
    spent = time.process_time() - started
    assert connection.answers == messages
    return spent / messages * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    ocpp.messages.ASYNC_VALIDATION = False  # as the gateway runs it
    figures: dict[tuple[str, str], float] = {}
    rows = ("package", "ours", "ours, hot path")
    for checks in rows:
        if checks == "ours":
            from evdms.charging.ocpp import package_speed

            package_speed.install()
        for protocol in ("1.6", "2.0.1"):
            figures[(checks, protocol)] = asyncio.run(
                per_message_us(protocol, args.messages, hot=checks == "ours, hot path")
            )
    print(f"{'schema checks':14} {'1.6 µs/msg':>11} {'2.0.1 µs/msg':>13} {'2.0.1/1.6':>10}")
    for checks in rows:
        a, b = figures[(checks, "1.6")], figures[(checks, "2.0.1")]
        print(f"{checks:14} {a:11.1f} {b:13.1f} {b / a:10.2f}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
