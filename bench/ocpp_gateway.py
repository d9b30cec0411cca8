"""Benchmark: one OCPP gateway process with many chargers connected, MeterValues
persisted, against a bare ``ocpp``-package server that only acknowledges.

Both servers run as their own process on loopback; this process plays the chargers
(OCPP 1.6J frames over websockets). Printed: connections held, messages/s, p50/p99
acknowledgement latency at a fixed offered rate, and the ratio gateway / bare.

With ``--protocol 2.0.1`` the chargers speak OCPP 2.0.1: a TransactionEvent ``Started``
each, then TransactionEvent ``Updated`` with one energy reading where 1.6 sends
MeterValues (the bare server answers those in 2.0.1 too).

    .venv/bin/python bench/ocpp_gateway.py [--chargers 2000] [--rate 1000] [--seconds 15]
        [--protocol 1.6|2.0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-charger-Kx9-Qm2-Lw4"

BARE_SERVER = r"""
import asyncio, contextlib, sys
from ocpp.routing import on
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

if sys.argv[2] == "1.6":
    from ocpp.v16 import ChargePoint, call_result
    from ocpp.v16.enums import Action

    class Bare(ChargePoint):
        @on(Action.meter_values)
        def on_meter_values(self, **kw):
            return call_result.MeterValues()

        @on(Action.start_transaction)
        def on_start(self, **kw):
            return call_result.StartTransaction(transaction_id=1, id_tag_info={"status": "Accepted"})
else:
    from ocpp.v201 import ChargePoint, call_result
    from ocpp.v201.enums import Action

    class Bare(ChargePoint):
        @on(Action.transaction_event)
        def on_transaction_event(self, **kw):
            return call_result.TransactionEvent()

async def handler(connection):
    # The load generator hanging up at the end is no error to print.
    with contextlib.suppress(ConnectionClosed):
        await Bare(connection.request.path.rsplit("/", 1)[-1], connection).start()

async def main(port):
    async with serve(handler, "127.0.0.1", port, subprotocols=["ocpp" + sys.argv[2]], ping_interval=None) as server:
        await server.serve_forever()

asyncio.run(main(int(sys.argv[1])))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def start_frame(protocol: str, n: int) -> list[Any]:
    if protocol == "1.6":
        start = {
            "connectorId": 1,
            "idTag": "HOME",
            "meterStart": 0,
            "timestamp": "2026-11-25T00:00:00Z",
        }
        return [2, f"s{n}", "StartTransaction", start]
    started = {
        "eventType": "Started",
        "timestamp": "2026-11-25T00:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": f"BENCH-TX-{n:05d}"},
        "evse": {"id": 1, "connectorId": 1},
    }
    return [2, f"s{n}", "TransactionEvent", started]


def reading_frame(protocol: str, transaction: Any, seq: int) -> list[Any]:
    """One energy reading, at a time of its own, higher than the one before."""
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_700_000_000 + seq)) + "Z"
    if protocol == "1.6":
        values = {
            "connectorId": 1,
            "transactionId": transaction,
            "meterValue": [
                {"timestamp": at, "sampledValue": [{"value": str(seq * 10), "unit": "Wh"}]}
            ],
        }
        return [2, f"m{seq}", "MeterValues", values]
    updated = {
        "eventType": "Updated",
        "timestamp": at,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": seq + 1,
        "transactionInfo": {"transactionId": transaction},
        "meterValue": [
            {
                "timestamp": at,
                "sampledValue": [{"value": seq * 10, "unitOfMeasure": {"unit": "Wh"}}],
            }
        ],
    }
    return [2, f"m{seq}", "TransactionEvent", updated]


async def run_load(
    url: str, chargers: int, rate: int, seconds: float, protocol: str = "1.6"
) -> dict[str, float]:
    from websockets.asyncio.client import connect

    async def open_one(i: int) -> Any:
        identity = f"BENCH-{i:05d}"
        token = base64.b64encode(f"{identity}:{PASSWORD}".encode()).decode()
        return await connect(
            f"{url}/{identity}",
            subprotocols=[f"ocpp{protocol}"],
            additional_headers={"Authorization": f"Basic {token}"},
            ping_interval=None,
            open_timeout=600,
            max_queue=None,
            # Plain frames: deflating 200-byte OCPP frames costs both ends CPU and saves
            # nothing (and many chargers do not offer it). Same for both servers.
            compression=None,
        )

    # 4 handshakes in flight at a time: this benchmark measures messages once connected;
    # all chargers connecting at once is bench/ocpp_storm.py.
    connections = []
    for first in range(0, chargers, 4):
        connections += await asyncio.gather(
            *(open_one(i) for i in range(first, min(first + 4, chargers)))
        )
    held = len(connections)
    # Every charger starts a transaction, then reports meter values.
    transactions: list[Any] = []
    for n, ws in enumerate(connections):
        await ws.send(json.dumps(start_frame(protocol, n)))
        reply = json.loads(await ws.recv())
        if protocol == "1.6":
            transactions.append(reply[2]["transactionId"])
        else:  # 2.0.1: the charger names its transaction
            transactions.append(f"BENCH-TX-{n:05d}")
    latencies: list[float] = []
    sent = 0
    interval = 1 / rate
    started = time.perf_counter()

    async def one(index: int, seq: int) -> None:
        ws = connections[index]
        frame = reading_frame(protocol, transactions[index], seq)
        t0 = time.perf_counter()
        await ws.send(json.dumps(frame))
        await ws.recv()
        latencies.append(time.perf_counter() - t0)

    pending: set[asyncio.Task[None]] = set()
    busy = [False] * held
    while time.perf_counter() - started < seconds:
        target = started + sent * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        index = sent % held
        if busy[index]:  # one request in flight per charger, as OCPP requires
            sent += 1
            continue
        busy[index] = True
        task = asyncio.create_task(one(index, sent))
        task.add_done_callback(lambda t, i=index: (busy.__setitem__(i, False), pending.discard(t)))
        pending.add(task)
        sent += 1
    await asyncio.gather(*pending)
    elapsed = time.perf_counter() - started
    for ws in connections:
        await ws.close()
    latencies.sort()
    return {
        "held": held,
        "acked": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0,
    }


def prepare_database(env: dict[str, str], chargers: int) -> None:
    code = f"""
import django; django.setup()
from evdms.charging.credentials import charger_password_hash
from django.core.management import call_command
from evdms.accounts.models import Organisation
from evdms.charging.models import Charger
call_command("migrate", verbosity=0)
from evdms.charging.models import ChargingSession, ProtocolIssue
# A PostgreSQL database is reused between runs: start from no bench data (only that).
org, _ = Organisation.objects.get_or_create(slug="bench", defaults=dict(name="Bench", kind="leasing_company"))
ChargingSession.objects.filter(charger__organisation=org).delete()
ProtocolIssue.objects.filter(charger__organisation=org).delete()
Charger.objects.filter(organisation=org).delete()
hashed = charger_password_hash({PASSWORD!r})
Charger.objects.bulk_create([Charger(organisation=org, identity=f"BENCH-{{i:05d}}", serial="S", password_hash=hashed) for i in range({chargers})], batch_size=1000)
"""
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def stored_readings(env: dict[str, str]) -> int:
    code = """
import django; django.setup()
from evdms.charging.models import MeterReading
print(MeterReading.objects.filter(session__charger__organisation__slug="bench").count())
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip())


def load_average() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chargers", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=1000, help="offered MeterValues per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--protocol", choices=["1.6", "2.0.1"], default="1.6")
    args = parser.parse_args()
    raise_fd_limit()
    env = {
        **os.environ,
        "EVDMS_VAR_DIR": tempfile.mkdtemp(prefix="evdms-bench-"),
        "EVDMS_ENV": "development",
        # As in production: with DEBUG every SQL statement is formatted and kept.
        "EVDMS_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "evdms.settings",
        "PYTHONPATH": str(ROOT),
    }
    database = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(f"load average before: {load_average()}; database: {database}; OCPP {args.protocol}")
    prepare_database(env, args.chargers)
    results = {}
    for name in ("bare", "gateway"):
        port = free_port()
        if name == "bare":
            command = [sys.executable, "-c", BARE_SERVER, str(port), args.protocol]
        else:
            command = [sys.executable, "manage.py", "run_ocpp_gateway", "--port", str(port)]
        server = subprocess.Popen(
            command, env=env, cwd=ROOT, preexec_fn=raise_fd_limit, stdout=subprocess.DEVNULL
        )
        try:
            wait_port(port)
            results[name] = asyncio.run(
                run_load(
                    f"ws://127.0.0.1:{port}/ocpp",
                    args.chargers,
                    args.rate,
                    args.seconds,
                    args.protocol,
                )
            )
        finally:
            server.terminate()
            server.wait(10)
        r = results[name]
        print(f"load average after {name}: {load_average()}")
        print(
            f"{name:8} held {r['held']:5.0f} connections; {r['acked']:6.0f} acks, {r['per_second']:7.0f} msg/s, p50 {r['p50_ms']:6.1f} ms, p99 {r['p99_ms']:6.1f} ms"
        )
    # Every acknowledged MeterValues (or Updated) carries one reading with its own timestamp: all of
    # them must be in the database (the bare server stores nothing).
    stored = stored_readings(env)
    print(f"gateway  stored {stored} readings for {results['gateway']['acked']:.0f} acks")
    if stored < results["gateway"]["acked"]:
        raise SystemExit("acknowledged readings are missing from the database")
    ratio = results["gateway"]["per_second"] / results["bare"]["per_second"]
    print(f"ratio gateway/bare (messages/s at {args.rate}/s offered): {ratio:.2f}")


if __name__ == "__main__":
    main()
