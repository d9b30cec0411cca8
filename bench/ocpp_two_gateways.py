"""Benchmark: two OCPP gateway processes sharing one database, as behind a TCP load
balancer, while chargers keep moving from one to the other with their old socket still
open (issue #13, point 3).

Each charger connects to one of the two processes, starts a transaction and sends a
MeterValues every ``--interval`` seconds, its meter always rising. Every ``--move-every``
seconds a share of the chargers (``--move-share``) opens a new connection to the *other*
process and carries on there; once the new connection has had a reading acknowledged, its old
socket, still open, sends one more reading of its own, which must not be stored: the
old connection is closed with 4000 instead. (What the old socket sends in the few
milliseconds between the new handshake and the commit of its acceptance is still
stored, once: until then the old connection is the newest the database knows.) At
the end every acknowledged reading must be in the database exactly once, none of the
old sockets' readings, and no session flagged for a decreasing meter.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evdms_bench_two \\
        .venv/bin/python bench/ocpp_two_gateways.py [--chargers 1000] [--seconds 60]
        [--interval 5] [--move-every 5] [--move-share 0.05]

Without DATABASE_URL it runs on a SQLite file in a temporary folder (WAL: two processes
share it too); the scale-out path it stands for is PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from ocpp_gateway import (
    ROOT,
    bench_env,
    charger_socket,
    database_name,
    free_port,
    load_average,
    prepare_database,
    process_cpu_seconds,
    raise_fd_limit,
    rss_bytes,
    start_frame,
    wait_port,
)

SUPERSEDED = 4000


def reading(transaction: int, wh: int, seq: int, stale: bool = False) -> list[Any]:
    # A time of its own for each reading (seconds from a fixed start), so a stored one
    # is identified by (session, value).
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_700_000_000 + seq)) + "Z"
    values = {
        "connectorId": 1,
        "transactionId": transaction,
        "meterValue": [{"timestamp": at, "sampledValue": [{"value": str(wh), "unit": "Wh"}]}],
    }
    return [2, f"{'x' if stale else 'm'}{seq}", "MeterValues", values]


class Charger:
    def __init__(self, n: int, urls: list[str]) -> None:
        self.n = n
        self.identity = f"BENCH-{n:05d}"
        self.urls = urls
        self.on = n % 2  # which gateway process
        self.ws: Any = None
        self.transaction = 0
        self.seq = 0
        self.lock = asyncio.Lock()  # one request in flight per connection, as OCPP says

    async def connect(self) -> Any:
        return await charger_socket(self.urls[self.on], self.identity)


async def ask(ws: Any, frame: list[Any]) -> Any:
    await ws.send(json.dumps(frame))
    return json.loads(await ws.recv())


async def run(args: argparse.Namespace, urls: list[str]) -> dict[str, Any]:
    from websockets.exceptions import ConnectionClosed

    chargers = [Charger(n, urls) for n in range(args.chargers)]
    for at in range(0, len(chargers), 50):
        batch = chargers[at : at + 50]
        sockets = await asyncio.gather(*(c.connect() for c in batch))
        for charger, ws in zip(batch, sockets, strict=True):
            charger.ws = ws
    for charger in chargers:
        reply = await ask(charger.ws, start_frame("1.6", charger.n))
        charger.transaction = int(reply[2]["transactionId"])

    acked: list[tuple[int, int]] = []  # (session, Wh) of every acknowledged reading
    latencies: list[float] = []
    stale_sent: list[tuple[int, int]] = []
    outcome: Counter[str] = Counter()
    started = time.perf_counter() + 1.0
    deadline = started + args.seconds

    async def send_reading(charger: Charger) -> None:
        async with charger.lock:
            charger.seq += 1
            wh = charger.seq * 10
            t0 = time.perf_counter()
            reply = await ask(charger.ws, reading(charger.transaction, wh, charger.seq))
            latencies.append(time.perf_counter() - t0)
            if reply[0] != 3:
                outcome["refused"] += 1
                return
            acked.append((charger.transaction, wh))

    async def every_interval(charger: Charger) -> None:
        tick = started + args.interval * charger.n / len(chargers)
        while tick < deadline:
            delay = tick - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await send_reading(charger)
            tick += args.interval

    async def move(charger: Charger) -> None:
        """To the other process; once a reading of the new connection is acknowledged
        (so its acceptance is committed: the gateway writes it before anything the new
        connection sends), the old socket tries once more."""
        async with charger.lock:
            old = charger.ws
            charger.on = 1 - charger.on
            charger.ws = await charger.connect()
            outcome["moved"] += 1
        await send_reading(charger)
        # A reading of the old socket only: between two of the new one's, never acked.
        charger.seq += 1
        wh = charger.seq * 10 - 5
        stale_sent.append((charger.transaction, wh))
        try:
            await old.send(json.dumps(reading(charger.transaction, wh, charger.seq, stale=True)))
            reply = await asyncio.wait_for(old.recv(), 30)
            outcome[f"old socket answered {json.loads(reply)[0]}"] += 1
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            outcome["old socket closed 4000" if code == SUPERSEDED else f"closed {code}"] += 1
        except TimeoutError:
            outcome["old socket silent"] += 1

    async def mover() -> None:
        rng = random.Random(13)
        at = started + args.move_every
        while at < deadline - 2:
            await asyncio.sleep(max(0, at - time.perf_counter()))
            picked = rng.sample(chargers, max(1, int(len(chargers) * args.move_share)))
            await asyncio.gather(*(move(c) for c in picked))
            at += args.move_every

    await asyncio.gather(mover(), *(every_interval(c) for c in chargers))
    elapsed = time.perf_counter() - started
    for charger in chargers:
        await charger.ws.close()
    return {
        "acked": acked,
        "stale": stale_sent,
        "latencies": sorted(latencies),
        "outcome": outcome,
        "elapsed": elapsed,
    }


def stored(env: dict[str, str]) -> tuple[list[tuple[int, int]], int]:
    code = """
import django, json; django.setup()
from evdms.charging.models import ChargingSession, MeterReading
rows = list(MeterReading.objects.filter(session__charger__organisation__slug="bench").values_list("session_id", "value_wh"))
flagged = ChargingSession.objects.filter(charger__organisation__slug="bench").exclude(flags=[]).count()
print(json.dumps({"rows": rows, "flagged": flagged}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    data = json.loads(out.stdout)
    return [tuple(r) for r in data["rows"]], data["flagged"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chargers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=5)
    parser.add_argument("--move-every", type=float, default=5)
    parser.add_argument("--move-share", type=float, default=0.05)
    args = parser.parse_args()
    raise_fd_limit()
    env = bench_env()
    database = database_name(env)
    print(
        f"{args.chargers} chargers over 2 gateway processes, one MeterValues each every "
        f"{args.interval:g} s, {args.move_share:.0%} moving to the other process every "
        f"{args.move_every:g} s, {args.seconds:g} s; database: {database}; "
        f"load average before: {load_average()}"
    )
    prepare_database(env, args.chargers)
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_ocpp_gateway", "--port", str(port)],
            env=env,
            cwd=ROOT,
            preexec_fn=raise_fd_limit,
            stdout=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            wait_port(port)
        time.sleep(1)
        cpu_before = [process_cpu_seconds(s.pid) for s in servers]
        wall_before = time.perf_counter()
        result = asyncio.run(run(args, [f"ws://127.0.0.1:{p}/ocpp" for p in ports]))
        wall = time.perf_counter() - wall_before
        cpu = [
            (process_cpu_seconds(s.pid) - b) / wall * 100
            for s, b in zip(servers, cpu_before, strict=True)
        ]
        rss = [rss_bytes(s.pid) / 1024 / 1024 for s in servers]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)
    latencies = result["latencies"]
    acked = result["acked"]
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else 0
    print(
        f"acked {len(acked)} readings, {len(acked) / result['elapsed']:.0f} msg/s, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99:.1f} ms; "
        f"gateway CPU {cpu[0]:.0f} % / {cpu[1]:.0f} %, RSS {rss[0]:.0f} / {rss[1]:.0f} MB; "
        f"load average after: {load_average()}"
    )
    print("moves and old sockets: " + ", ".join(f"{k} {v}" for k, v in result["outcome"].items()))
    rows, flagged = stored(env)
    counts = Counter(rows)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    want = Counter(acked)
    missing = sum((want - counts).values())
    stale_stored = sum(1 for r in result["stale"] if r in counts)
    extra = sum((counts - want).values())
    print(
        f"stored {len(rows)} readings: missing {missing}, duplicated {duplicates}, "
        f"from old sockets {stale_stored} (of {len(result['stale'])} sent), other extra "
        f"{extra - stale_stored}; sessions flagged {flagged}"
    )
    if missing or duplicates or stale_stored or extra or flagged:
        raise SystemExit("readings lost, doubled or taken from a superseded connection")


if __name__ == "__main__":
    main()
