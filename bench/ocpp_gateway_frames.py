"""CPU per message in the gateway's own handling of 1.6 MeterValues and 2.0.1
TransactionEvent ``Updated``: the real handlers (``charging/ocpp/handlers_v16.py``,
``handlers_v201.py``) and the real batch writer on a fresh SQLite database, without
sockets (what websockets costs is the same in both versions).

``--chargers`` chargers each route their frames one after the other (OCPP: one request
in flight), all chargers at once, so the batches are as in the gateway benchmark's
closed loop. CPU of this process, the database thread included
(``time.process_time``), per acknowledged message, and the database thread's part of
it; both versions alternated ``--rounds`` times in one run, so a shared machine's load
touches both alike.

    .venv/bin/python bench/ocpp_gateway_frames.py [--chargers 100] [--messages 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.update(
    EVDMS_VAR_DIR=tempfile.mkdtemp(prefix="evdms-bench-frames-"),
    EVDMS_ENV="development",
    EVDMS_DEBUG="false",
    DJANGO_SETTINGS_MODULE="evdms.settings",
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.ocpp_gateway import reading_frame, start_frame  # noqa: E402


class Collecting:
    """A connection that keeps the last answer of its charger."""

    def __init__(self) -> None:
        self.answers = 0
        self.last = ""

    async def send(self, message: str) -> None:
        self.answers += 1
        self.last = message

    async def close(self, *args: Any) -> None:
        raise AssertionError("closed")


def prepare(chargers: int) -> dict[str, list[int]]:
    from evdms.accounts.models import Organisation
    from evdms.charging.models import Charger

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(slug="bench", name="Bench", kind="leasing_company")
    ids: dict[str, list[int]] = {}
    for protocol in ("1.6", "2.0.1"):
        made = Charger.objects.bulk_create(
            [
                Charger(organisation=org, identity=f"B{protocol}-{i:05d}", serial="S")
                for i in range(chargers)
            ]
        )
        ids[protocol] = [c.pk for c in made]
    return ids


_db_thread = {"cpu": 0.0}


def _count_database_thread() -> None:
    """The batch writer's CPU, in its thread, apart (the rest is the event loop's)."""
    from evdms.charging.ocpp import persist

    run_batch = persist._run_batch

    def counted(items: Any, memory: Any) -> Any:
        started = time.thread_time()
        try:
            return run_batch(items, memory)
        finally:
            _db_thread["cpu"] += time.thread_time() - started

    persist._run_batch = counted


async def one_round(
    protocol: str, charger_ids: list[int], messages: int, first: int
) -> tuple[float, float]:
    from evdms.charging.ocpp.handlers_v16 import CentralSystem16
    from evdms.charging.ocpp.handlers_v201 import CentralSystem201

    cls: Any = CentralSystem16 if protocol == "1.6" else CentralSystem201
    points = []
    for charger_id in charger_ids:
        point = cls(f"C{charger_id}", Collecting())
        point.charger_id, point.epoch = charger_id, None
        points.append(point)

    async def start(n: int, point: Any) -> Any:
        await point.route_message(json.dumps(start_frame(protocol, n)))
        reply = json.loads(point._connection.last)
        return int(reply[2]["transactionId"]) if protocol == "1.6" else f"BENCH-TX-{n:05d}"

    if protocol not in _transactions:  # the first round starts every charger's session
        _transactions[protocol] = await asyncio.gather(*(start(n, p) for n, p in enumerate(points)))
    transactions = _transactions[protocol]
    frames = [
        [json.dumps(reading_frame(protocol, tx, first + s)) for s in range(messages)]
        for tx in transactions
    ]
    before = sum(p._connection.answers for p in points)

    async def charger(point: Any, mine: list[str]) -> None:
        for frame in mine:
            await point.route_message(frame)

    _db_thread["cpu"] = 0.0
    started = time.process_time()
    await asyncio.gather(*(charger(p, f) for p, f in zip(points, frames, strict=True)))
    spent = time.process_time() - started
    answered = sum(p._connection.answers for p in points) - before
    assert answered == len(points) * messages, answered
    assert all(p._connection.last.startswith("[3,") for p in points), points[0]._connection.last
    return spent / answered * 1e6, _db_thread["cpu"] / answered * 1e6


_transactions: dict[str, list[Any]] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--messages", type=int, default=100, help="per charger and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import ocpp.messages

    from evdms.charging.ocpp import package_speed

    ocpp.messages.ASYNC_VALIDATION = False  # as the gateway runs it
    package_speed.install()
    ids = prepare(args.chargers)
    _count_database_thread()
    figures: dict[str, list[tuple[float, float]]] = {"1.6": [], "2.0.1": []}

    async def run() -> None:
        for r in range(args.rounds + 1):  # the first round warms up (and starts sessions)
            for protocol in ("1.6", "2.0.1"):
                us = await one_round(protocol, ids[protocol], args.messages, r * args.messages)
                if r:
                    figures[protocol].append(us)

    asyncio.run(run())
    print(
        f"{args.chargers} chargers × {args.messages} messages a round, {args.rounds} rounds; "
        "CPU µs per message (median, lowest): all, of which the database thread"
    )
    medians = {}
    for protocol, name in (("1.6", "MeterValues"), ("2.0.1", "TransactionEvent")):
        runs = figures[protocol]
        total = statistics.median(t for t, _ in runs)
        medians[protocol] = total
        print(
            f"{protocol:6} {name:17} all {total:6.1f} ({min(t for t, _ in runs):6.1f}), "
            f"database thread {statistics.median(d for _, d in runs):6.1f} "
            f"({min(d for _, d in runs):6.1f})"
        )
    print(f"2.0.1/1.6 (median): {medians['2.0.1'] / medians['1.6']:.2f}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
