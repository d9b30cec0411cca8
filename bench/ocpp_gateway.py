"""Benchmark: one OCPP gateway process with many chargers connected, MeterValues
persisted, against a bare ``ocpp``-package server that only acknowledges.

Both servers run as their own process on loopback; this process plays the chargers
(OCPP 1.6J frames over websockets; ``--protocol 2.0.1``: a TransactionEvent ``Started``
each, then TransactionEvent ``Updated`` with one energy reading where 1.6 sends
MeterValues, and the bare server answers those in 2.0.1 too). Printed: connections held, messages/s, p50/p99
acknowledgement latency at a fixed offered rate, the server's CPU per message over the
run, and the ratio gateway / bare. ``--protocol both``: 1.6 then 2.0.1, ``--rounds``
times alternated, and each pair's ratio 2.0.1 / 1.6 (messages/s and CPU per message).

    .venv/bin/python bench/ocpp_gateway.py [--chargers 2000] [--rate 1000] [--seconds 15]
        [--protocol 1.6|2.0.1|both [--rounds 3]] [--closed-loop | --interval 10] [--processes 1]
        [--connect-parallel 4] [--only gateway]

``--closed-loop``: saturated throughput, each charger sends its next MeterValues as soon
as the previous one is acknowledged. ``--interval S``: each charger one every S seconds
(10,000 chargers at 10 s: 1,000/s). ``--processes``: the load generator as several
processes, when one cannot drive the chargers (its CPU is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
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


# --gc-log: the gateway with a hook that prints each garbage collection longer than 50 ms
# (the bench's eyes only; the gateway itself is unchanged).
GC_LOGGED_GATEWAY = r"""
import gc, sys, time
started = {}
def pause(phase, info):
    if phase == "start":
        started["t"] = time.perf_counter()
    elif "t" in started:
        took = time.perf_counter() - started.pop("t")
        if took > 0.05:
            print(f"gateway gc: generation {info['generation']} took {took * 1000:.0f} ms, "
                  f"{info['collected']} collected", file=sys.stderr, flush=True)
gc.callbacks.append(pause)
sys.argv = ["manage.py", "run_ocpp_gateway", "--port", sys.argv[1]]
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
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


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def bench_env(prefix: str = "evdms-bench-") -> dict[str, str]:
    """The environment the benchmark's servers run in: a fresh var folder (its SQLite
    database unless DATABASE_URL names one), settings as in production (with DEBUG every
    SQL statement is formatted and kept)."""
    return {
        **os.environ,
        "EVDMS_VAR_DIR": tempfile.mkdtemp(prefix=prefix),
        "EVDMS_ENV": "development",
        "EVDMS_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "evdms.settings",
        "PYTHONPATH": str(ROOT),
    }


def database_name(env: dict[str, str]) -> str:
    return "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"


async def charger_socket(
    url: str, identity: str, protocol: str = "1.6", open_timeout: float = 120, **options: Any
) -> Any:
    """A charger's websocket to ``url``/``identity`` with its basic-auth password."""
    from websockets.asyncio.client import connect

    token = base64.b64encode(f"{identity}:{PASSWORD}".encode()).decode()
    return await connect(
        f"{url}/{identity}",
        subprotocols=[f"ocpp{protocol}"],  # type: ignore[list-item]
        additional_headers={"Authorization": f"Basic {token}"},
        ping_interval=None,
        open_timeout=open_timeout,
        # Plain frames: deflating 200-byte OCPP frames costs both ends CPU and saves
        # nothing (and many chargers do not offer it). Same for every server.
        compression=None,
        **options,
    )


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


def _done(busy: list[bool], pending: set[Any], index: int, task: Any) -> None:
    """A charger's request answered: it may send the next one."""
    busy[index] = False
    pending.discard(task)


async def run_load(
    url: str,
    first: int,
    count: int,
    *,
    mode: str,
    rate: float,
    interval: float,
    seconds: float,
    total: int,
    connect_parallel: int = 4,
    ready: Any = None,
    go: Any = None,
    finished: Any = None,
    hang_up: Any = None,
    protocol: str = "1.6",
) -> dict[str, Any]:
    """Play chargers ``first`` … ``first + count - 1``. ``mode``: "rate" (this process
    offers ``rate`` messages/s round-robin), "closed" (each charger sends its next
    MeterValues as soon as the previous one is acknowledged) or "interval" (each charger
    every ``interval`` seconds, staggered over the ``total`` chargers of all processes)."""

    async def open_one(i: int) -> Any:
        return await charger_socket(
            url, f"BENCH-{i:05d}", protocol, open_timeout=600, max_queue=None
        )

    # A few handshakes in flight at a time (4 by default): this benchmark measures
    # messages once connected; all chargers connecting at once is bench/ocpp_storm.py.
    connections: list[Any] = []
    indices = range(first, first + count)
    for at in range(0, count, connect_parallel):
        connections += await asyncio.gather(
            *(open_one(i) for i in indices[at : at + connect_parallel])
        )
    held = len(connections)

    # Every charger starts a transaction, then reports meter values.
    async def start(n: int, ws: Any) -> Any:
        await ws.send(json.dumps(start_frame(protocol, n)))
        reply = json.loads(await ws.recv())
        if protocol == "1.6":
            return int(reply[2]["transactionId"])
        return f"BENCH-TX-{n:05d}"  # 2.0.1: the charger names its transaction

    transactions: list[Any] = []
    for at in range(0, held, 200):
        transactions += await asyncio.gather(
            *(start(n, ws) for n, ws in enumerate(connections[at : at + 200], at))
        )
    if ready is not None:  # several load processes: all connected, then all start
        ready.set()
        await asyncio.to_thread(go.wait)
    latencies: list[float] = []
    sent_at: list[float] = []  # when each was sent, from the start: where the slow ones sit
    cpu_before = time.process_time()
    started = time.perf_counter()
    if mode == "interval":
        # A second's lead-in: the first ticks come after every charger's task exists.
        # Without it, making thousands of tasks held up this process's event loop while
        # the first acknowledgements arrived, and they were counted as slow (the first
        # second of a 10,000-charger run was most of its p99).
        started += 1.0
    deadline = started + seconds

    async def one(index: int, seq: int) -> None:
        ws = connections[index]
        t0 = time.perf_counter()
        await ws.send(json.dumps(reading_frame(protocol, transactions[index], seq)))
        await ws.recv()
        latencies.append(time.perf_counter() - t0)
        sent_at.append(t0 - started)

    async def closed_loop(index: int) -> None:
        seq = 0
        while time.perf_counter() < deadline:
            seq += 1
            await one(index, seq)

    async def every_interval(index: int) -> None:
        # Staggered over all chargers, so the offered rate is even: total / interval.
        tick = started + interval * ((first + index) % total) / total
        seq = 0
        while tick < deadline:
            delay = tick - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            seq += 1
            await one(index, seq)
            tick += interval
            # An acknowledgement later than the next tick: send at once, skip none.

    if mode == "closed":
        await asyncio.gather(*(closed_loop(i) for i in range(held)))
    elif mode == "interval":
        await asyncio.gather(*(every_interval(i) for i in range(held)))
    else:
        pending: set[asyncio.Task[None]] = set()
        busy = [False] * held
        sent = 0
        while time.perf_counter() < deadline:
            target = started + sent / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            index = sent % held
            if busy[index]:  # one request in flight per charger, as OCPP requires
                sent += 1
                continue
            busy[index] = True
            task = asyncio.create_task(one(index, sent))
            task.add_done_callback(functools.partial(_done, busy, pending, index))
            pending.add(task)
            sent += 1
        await asyncio.gather(*pending)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    if ready is not None:
        # Not one process hanging up thousands while another still measures: the
        # closing handshakes would slow the others' acknowledgements.
        finished.set()
        await asyncio.to_thread(hang_up.wait)
    for ws in connections:
        await ws.close()
    return {
        "held": held,
        "latencies": latencies,
        "sent_at": sent_at,
        "elapsed": elapsed,
        "cpu_s": cpu,
    }


def _load_process(args: tuple[Any, ...], kwargs: dict[str, Any], queue: Any) -> None:
    raise_fd_limit()
    try:
        queue.put(asyncio.run(run_load(*args, **kwargs)))
    except BaseException as exc:  # the parent must not wait for a result forever
        queue.put({"error": repr(exc)})
        raise


def drive(url: str, chargers: int, args: argparse.Namespace, server_pid: int) -> dict[str, Any]:
    """Run the load in ``args.processes`` processes (one cannot drive 10,000 chargers
    in closed loop: its CPU is the limit), each playing an equal share of chargers."""
    import multiprocessing

    processes = max(1, args.processes)
    kwargs = {
        "mode": args.mode,
        "rate": args.rate / processes,
        "interval": args.interval,
        "seconds": args.seconds,
        "total": chargers,
        "connect_parallel": args.connect_parallel,
        "protocol": args.protocol,
    }
    rss_idle = rss_bytes(server_pid)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    go, hang_up = context.Event(), context.Event()
    workers, readies, finishes = [], [], []
    share = -(-chargers // processes)
    for p in range(processes):
        first, count = p * share, min(share, chargers - p * share)
        ready, finished = context.Event(), context.Event()
        readies.append(ready)
        finishes.append(finished)
        events = {"ready": ready, "go": go, "finished": finished, "hang_up": hang_up}
        worker = context.Process(
            target=_load_process, args=((url, first, count), {**kwargs, **events}, queue)
        )
        worker.start()
        workers.append(worker)
    t_connect = time.perf_counter()
    for ready in readies:
        while not ready.wait(1):
            if not any(w.is_alive() for w in workers):
                raise SystemExit("the load processes died before connecting")
    connect_s = time.perf_counter() - t_connect
    rss_connected = rss_bytes(server_pid)
    cpu_go = process_cpu_seconds(server_pid)
    go.set()
    for finished in finishes:
        while not finished.wait(1):
            if not any(w.is_alive() for w in workers):
                raise SystemExit("the load processes died during the run")
    cpu_run = process_cpu_seconds(server_pid) - cpu_go
    rss_end = rss_bytes(server_pid)
    hang_up.set()
    results = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise SystemExit(f"a load process failed: {errors[0]}")
    latencies = sorted(x for r in results for x in r["latencies"])
    slow: dict[int, int] = {}  # second of sending -> acks slower than 100 ms
    for r in results:
        for at, latency in zip(r["sent_at"], r["latencies"], strict=True):
            if latency > 0.1:
                slow[int(at)] = slow.get(int(at), 0) + 1
    elapsed = max(r["elapsed"] for r in results)
    held = sum(r["held"] for r in results)
    return {
        "held": held,
        "acked": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else 0,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000 if latencies else 0,
        "max_ms": latencies[-1] * 1000 if latencies else 0,
        "connect_s": connect_s,
        # Busiest load process's CPU over the run, in % of one core: near 100 % it, not
        # the server, is the limit.
        "client_cpu": max(r["cpu_s"] / r["elapsed"] for r in results) * 100,
        "rss_idle": rss_idle,
        "rss_connected": rss_connected,
        "rss_end": rss_end,
        "per_connection": (rss_connected - rss_idle) / held if held else 0,
        # The server's CPU (all its threads) over the run alone, per acknowledged message:
        # on a shared machine steadier than messages/s, which depends on the CPU it got.
        "cpu_us_per_msg": cpu_run / len(latencies) * 1e6 if latencies else 0,
        "slow": slow,
    }


def ensure_database(env: dict[str, str]) -> None:
    """Create the PostgreSQL database named in DATABASE_URL if it does not exist yet."""
    url = env.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as db:
        if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            db.execute(f'CREATE DATABASE "{name}"')


def prepare_database(
    env: dict[str, str], chargers: int, slug: str = "bench", then: str = ""
) -> None:
    """Migrate, and register ``chargers`` chargers ``<SLUG>-00000``… of an organisation
    ``slug`` with the benchmark's password; ``then``: more Django code to run after."""
    ensure_database(env)
    code = f"""
import django; django.setup()
from evdms.charging.credentials import charger_password_hash
from django.core.management import call_command
from evdms.accounts.models import Organisation
from evdms.charging.models import Charger
call_command("migrate", verbosity=0)
from evdms.charging.models import ChargingSession, ProtocolIssue
# A PostgreSQL database is reused between runs: start from no bench data (only that).
org, _ = Organisation.objects.get_or_create(slug={slug!r}, defaults=dict(name={slug.title()!r}, kind="leasing_company"))
ChargingSession.objects.filter(charger__organisation=org).delete()
ProtocolIssue.objects.filter(charger__organisation=org).delete()
Charger.objects.filter(organisation=org).delete()
hashed = charger_password_hash({PASSWORD!r})
Charger.objects.bulk_create([Charger(organisation=org, identity=f"{slug.upper()}-{{i:05d}}", serial="S", password_hash=hashed) for i in range({chargers})], batch_size=1000)
{then}
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


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_servers(args: argparse.Namespace, protocol: str, offered: str) -> dict[str, Any]:
    """One pass: a fresh database, then each server in turn under the same load."""
    args.protocol = protocol  # what ``drive`` sends
    env = bench_env()
    database = database_name(env)
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    print(
        f"{args.chargers} chargers, {offered}, {args.seconds:g} s, "
        f"{args.processes} load process(es); database: {database}; OCPP {protocol}; "
        f"open files limit {soft}; load average before: {load_average()}"
    )
    prepare_database(env, args.chargers)
    results = {}
    names = [args.only] if args.only else ["bare", "gateway"]
    for name in names:
        port = free_port()
        if name == "bare":
            command = [sys.executable, "-c", BARE_SERVER, str(port), protocol]
        elif args.gc_log:
            command = [sys.executable, "-c", GC_LOGGED_GATEWAY, str(port)]
        else:
            command = [sys.executable, "manage.py", "run_ocpp_gateway", "--port", str(port)]
        server = subprocess.Popen(
            command, env=env, cwd=ROOT, preexec_fn=raise_fd_limit, stdout=subprocess.DEVNULL
        )
        try:
            wait_port(port)
            time.sleep(1)  # start-up is not the load's cost
            cpu_before = process_cpu_seconds(server.pid)
            wall_before = time.perf_counter()
            results[name] = r = drive(
                f"ws://127.0.0.1:{port}/ocpp", args.chargers, args, server.pid
            )
            # Over connecting and the run: a rough share, for "who is the limit".
            r["server_cpu"] = (
                (process_cpu_seconds(server.pid) - cpu_before)
                / (time.perf_counter() - wall_before)
                * 100
            )
            r["load"] = load_average()
        finally:
            server.terminate()
            server.wait(30)
        mb = 1024 * 1024
        print(
            f"{name:8} held {r['held']:5.0f} connections (connected in {r['connect_s']:.1f} s); "
            f"{r['acked']:7.0f} acks, {r['per_second']:7.0f} msg/s, p50 {r['p50_ms']:6.1f} ms, "
            f"p99 {r['p99_ms']:6.1f} ms, max {r['max_ms']:6.1f} ms"
        )
        print(
            f"{'':8} RSS idle {r['rss_idle'] / mb:.0f} MB, connected {r['rss_connected'] / mb:.0f} MB, "
            f"end {r['rss_end'] / mb:.0f} MB ({r['per_connection'] / 1024:.1f} KB per connection); "
            f"server CPU {r['server_cpu']:.0f} % ({r['cpu_us_per_msg']:.0f} µs per message in "
            f"the run), busiest load process CPU {r['client_cpu']:.0f} % "
            f"of a core; load average {r['load']}"
        )
        if r["slow"]:
            worst = sorted(r["slow"].items(), key=lambda kv: -kv[1])[:8]
            print(
                f"{'':8} acks slower than 100 ms: {sum(r['slow'].values())}; busiest seconds "
                "(from the start: count) " + ", ".join(f"{s}: {n}" for s, n in sorted(worst))
            )
    if "gateway" in results:
        # Every acknowledged MeterValues carries one reading with its own timestamp: all
        # of them must be in the database, once (the bare server stores nothing).
        stored = stored_readings(env)
        acked = results["gateway"]["acked"]
        print(f"gateway  stored {stored} readings for {acked:.0f} acks")
        if stored < acked:
            raise SystemExit("acknowledged readings are missing from the database")
    if len(results) == 2:
        ratio = results["gateway"]["per_second"] / results["bare"]["per_second"]
        print(f"ratio gateway/bare (messages/s, {offered}): {ratio:.2f}")
    return results


def compare_protocols(runs: list[tuple[str, dict[str, Any]]]) -> None:
    """``--protocol both``: each pass of 2.0.1 against the 1.6 pass just before it."""
    print("\nround  server   1.6 msg/s  2.0.1 msg/s  ratio  1.6 µs/msg  2.0.1 µs/msg  ratio  load")
    for i in range(0, len(runs) - 1, 2):
        (_, a), (_, b) = runs[i], runs[i + 1]
        for name in a:
            x, y = a[name], b[name]
            print(
                f"{i // 2 + 1:5}  {name:7} {x['per_second']:10.0f} {y['per_second']:12.0f} "
                f"{y['per_second'] / x['per_second']:6.2f} {x['cpu_us_per_msg']:11.0f} "
                f"{y['cpu_us_per_msg']:13.0f} {x['cpu_us_per_msg'] / y['cpu_us_per_msg']:6.2f}"
                f"  {x['load']} / {y['load']}"
            )
    print("(ratio: 2.0.1 against 1.6, in messages/s and in messages per CPU second)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chargers", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=1000, help="offered MeterValues per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--closed-loop",
        action="store_true",
        help="saturated: each charger sends its next as soon as the last is acknowledged",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0,
        help="each charger sends one MeterValues every this many seconds (instead of --rate)",
    )
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument("--connect-parallel", type=int, default=4, help="handshakes in flight")
    parser.add_argument("--gc-log", action="store_true", help="print the gateway's long GC pauses")
    parser.add_argument(
        "--protocol",
        choices=["1.6", "2.0.1", "both"],
        default="1.6",
        help="both: 1.6 then 2.0.1, --rounds times, and the ratios of each pair",
    )
    parser.add_argument("--rounds", type=int, default=1, help="with --protocol both")
    parser.add_argument("--only", choices=["bare", "gateway"], help="run against one server only")
    args = parser.parse_args()
    args.mode = "closed" if args.closed_loop else "interval" if args.interval else "rate"
    raise_fd_limit()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.chargers + 100:
        raise SystemExit(f"open files limit {soft} (hard {hard}): too low for {args.chargers}")
    offered = {
        "closed": "closed loop (no rate cap)",
        "interval": f"one MeterValues per charger every {args.interval:g} s "
        f"({args.chargers / args.interval if args.interval else 0:.0f}/s offered)",
        "rate": f"{args.rate}/s offered",
    }[args.mode]
    if args.protocol != "both":
        run_servers(args, args.protocol, offered)
        return
    runs = []
    for _ in range(args.rounds):
        for protocol in ("1.6", "2.0.1"):
            runs.append((protocol, run_servers(args, protocol, offered)))
    compare_protocols(runs)


if __name__ == "__main__":
    main()
