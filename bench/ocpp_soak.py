"""Benchmark: a soak. N home chargers for M minutes on one gateway process, sessions
starting and ending (OCPP 1.6 StartTransaction, a MeterValues every ``--interval``
seconds, StopTransaction), 1 % of the chargers dropping (socket cut, no close handshake)
and reconnecting every minute, while K admins browse the transactions report and the
dashboard of a real web server process (gunicorn, as in production).

Printed: errors of every kind (0 expected), MeterValues readings acknowledged against
stored (0 lost, 0 more), sessions, the admins' page times, and the gateway's and web
server's RSS at the start, every minute and at the end.

    .venv/bin/python bench/ocpp_soak.py [--chargers 2000] [--minutes 10] [--admins 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ocpp_gateway import (
    bench_env,
    charger_socket,
    database_name,
    free_port,
    load_average,
    raise_fd_limit,
    rss_bytes,
    wait_port,
)
from ocpp_gateway import prepare_database as prepare_chargers

ROOT = Path(__file__).resolve().parent.parent
ADMIN_PASSWORD = "soak-admin-password-2026"
BASE_TIME = 1_700_000_000  # each charger's own clock: one second per message it sends
WH_PER_TICK = 3  # 10.8 kW for a synthetic second: a plausible home charger


def identity(i: int) -> str:
    return f"SOAK-{i:05d}"


def stamp(tick: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(BASE_TIME + tick)) + "Z"


async def chargers_process(
    first: int,
    count: int,
    url: str,
    seconds: float,
    interval: float,
    drop_every: float,
    ready: Any,
    go: Any,
) -> dict[str, Any]:

    rng = random.Random(first)
    stats: dict[str, Any] = {
        "acked": 0,
        "sessions_started": 0,
        "sessions_stopped": 0,
        "drops": 0,
        "errors": {},
        "latencies": {},  # per action: the slow ones may be one kind
    }
    drop_now: set[int] = set()

    def error(kind: str) -> None:
        stats["errors"][kind] = stats["errors"].get(kind, 0) + 1

    async def open_one(i: int) -> Any:
        return await charger_socket(url, identity(i))

    async def call(ws: Any, i: int, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        message_id = f"{action[:1]}{rng.getrandbits(48):x}"
        t0 = time.perf_counter()
        await ws.send(json.dumps([2, message_id, action, payload]))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 60))
        stats["latencies"].setdefault(action, []).append(time.perf_counter() - t0)
        if reply[0] != 3 or reply[1] != message_id:
            # Grouped by kind: an error code, not the message id.
            raise RuntimeError(f"{action} answered {reply[0]}: {reply[2] if reply[0] == 4 else ''}")
        return dict(reply[2])

    async def charger(i: int, ws: Any, deadline: float) -> None:
        tick = 0
        meter = 0
        boot = {"chargePointVendor": "soak", "chargePointModel": "Home 11"}
        await call(ws, i, "BootNotification", boot)
        # Staggered: not every charger's session starts in the same second.
        await asyncio.sleep(rng.uniform(0, interval))
        while time.perf_counter() < deadline:
            tick += 1
            start = {
                "connectorId": 1,
                "idTag": "HOME",
                "meterStart": meter,
                "timestamp": stamp(tick),
            }
            reply = await call(ws, i, "StartTransaction", start)
            if reply.get("idTagInfo", {}).get("status") != "Accepted":
                raise RuntimeError(f"StartTransaction answered {reply}")
            transaction = reply["transactionId"]
            stats["sessions_started"] += 1
            for _ in range(rng.randint(3, 8)):
                await asyncio.sleep(interval)
                if time.perf_counter() >= deadline:
                    break
                if i in drop_now:
                    # The network cut it: no close handshake, then a new connection at
                    # once, while the gateway may still think the old one is open.
                    drop_now.discard(i)
                    ws.transport.abort()
                    stats["drops"] += 1
                    ws = await open_one(i)
                tick += 1
                meter += int(WH_PER_TICK * interval)
                reading = {
                    "timestamp": stamp(tick),
                    "sampledValue": [{"value": str(meter), "unit": "Wh"}],
                }
                payload = {"connectorId": 1, "transactionId": transaction, "meterValue": [reading]}
                await call(ws, i, "MeterValues", payload)
                stats["acked"] += 1
            tick += 1
            stop = {"transactionId": transaction, "meterStop": meter, "timestamp": stamp(tick)}
            await call(ws, i, "StopTransaction", stop)
            stats["sessions_stopped"] += 1
            await asyncio.sleep(rng.uniform(0, 2 * interval))
        await ws.close()

    async def guarded(i: int, ws: Any, deadline: float) -> None:
        try:
            await charger(i, ws, deadline)
        except Exception as exc:
            error(f"charger {type(exc).__name__}: {str(exc)[:80]}")

    connections = []
    for at in range(first, first + count, 20):
        connections += await asyncio.gather(
            *(open_one(i) for i in range(at, min(at + 20, first + count)))
        )
    ready.set()
    await asyncio.to_thread(go.wait)
    cpu_before = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    tasks = [
        asyncio.create_task(guarded(first + n, ws, deadline)) for n, ws in enumerate(connections)
    ]

    async def dropper() -> None:
        while True:
            await asyncio.sleep(drop_every)
            drop_now.update(rng.sample(range(first, first + count), max(1, count // 100)))

    drops = asyncio.create_task(dropper())
    await asyncio.gather(*tasks)
    drops.cancel()
    stats["cpu_percent"] = (
        (time.process_time() - cpu_before) / (time.perf_counter() - started) * 100
    )
    return stats


def _chargers_main(args: tuple[Any, ...], queue: Any) -> None:
    raise_fd_limit()
    try:
        queue.put(asyncio.run(chargers_process(*args)))
    except BaseException as exc:
        queue.put({"fatal": repr(exc)})
        raise


def admins(base: str, count: int, seconds: float, out: dict[str, Any]) -> None:
    """K admins, each logged in with its own session, alternating the transactions report
    (a random page of it) and the dashboard, a second or two apart."""
    import requests

    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def one(n: int) -> None:
        rng = random.Random(n)
        http = requests.Session()
        try:
            page = http.get(f"{base}/accounts/login/", timeout=30)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            form = {"username": f"admin{n:02d}@soak.example", "password": ADMIN_PASSWORD}
            form["csrfmiddlewaretoken"] = token.group(1) if token else ""
            login = http.post(
                f"{base}/accounts/login/", data=form, timeout=30, headers={"Referer": base}
            )
            if "/accounts/login" in login.url:
                raise RuntimeError("log-in refused")
        except Exception as exc:
            with lock:
                errors[f"login {exc}"[:80]] = errors.get(f"login {exc}"[:80], 0) + 1
            return
        while time.perf_counter() < deadline:
            if rng.random() < 0.5:
                path = "/dashboard/"
            else:
                path = f"/reports/transactions/?page={rng.randint(1, 5)}"
            t0 = time.perf_counter()
            try:
                r = http.get(f"{base}{path}", timeout=60, allow_redirects=False)
                ok = r.status_code == 200
                kind = f"HTTP {r.status_code} {path.split('?')[0]}"
            except Exception as exc:
                ok, kind = False, type(exc).__name__
            with lock:
                latencies.append(time.perf_counter() - t0)
                if not ok:
                    errors[kind] = errors.get(kind, 0) + 1
            time.sleep(rng.uniform(1, 2))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["latencies"] = sorted(latencies)
    out["errors"] = errors


def tree_rss(pid: int) -> int:
    """A gunicorn master and its workers together."""
    total = rss_bytes(pid)
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except FileNotFoundError:
        return total
    return total + sum(tree_rss(c) for c in children)


def prepare_database(env: dict[str, str], chargers: int, admins: int) -> None:
    """The soak's chargers, and ``admins`` Network Managers of their organisation."""
    admin_code = f"""
from django.utils import timezone
from evdms.accounts.models import Admin, AdminStatus, Role, User
for n in range({admins}):
    email = f"admin{{n:02d}}@soak.example"
    user = User.objects.filter(email=email).first() or User.objects.create_user(email, {ADMIN_PASSWORD!r}, full_name=f"Soak Admin {{n}}")
    Admin.objects.get_or_create(user=user, defaults=dict(email=email, full_name=user.full_name, organisation=org, role=Role.NETWORK_MANAGER, status=AdminStatus.ACTIVE, activated_at=timezone.now()))
"""
    prepare_chargers(env, chargers, slug="soak", then=admin_code)


def stored(env: dict[str, str]) -> dict[str, int]:
    code = """
import django, json; django.setup()
from evdms.charging.models import ChargingSession, MeterReading
sessions = ChargingSession.objects.filter(charger__organisation__slug="soak")
print(json.dumps({
    "readings": MeterReading.objects.filter(session__charger__organisation__slug="soak").count(),
    "sessions": sessions.count(),
    "finished": sessions.filter(ended_at__isnull=False).count(),
}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chargers", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--admins", type=int, default=20)
    parser.add_argument("--interval", type=float, default=10, help="seconds between MeterValues")
    parser.add_argument(
        "--drop-every", type=float, default=60, help="seconds between drops of 1 %% of chargers"
    )
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args()
    raise_fd_limit()
    env = bench_env("evdms-soak-")
    database = database_name(env)
    print(
        f"soak: {args.chargers} chargers, {args.minutes:g} min, {args.admins} admins, a MeterValues "
        f"every {args.interval:g} s; database: {database}; load {load_average()}"
    )
    prepare_database(env, args.chargers, args.admins)
    ocpp_port, web_port = free_port(), free_port()
    gateway = subprocess.Popen(
        [sys.executable, "manage.py", "run_ocpp_gateway", "--port", str(ocpp_port)],
        env=env,
        cwd=ROOT,
        preexec_fn=raise_fd_limit,
        stdout=subprocess.DEVNULL,
    )
    web = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "evdms.wsgi:application",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--workers",
            str(args.web_workers),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    seconds = args.minutes * 60
    try:
        wait_port(ocpp_port)
        wait_port(web_port)
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        go = context.Event()
        workers, readies = [], []
        share = -(-args.chargers // args.processes)
        url = f"ws://127.0.0.1:{ocpp_port}/ocpp"
        for p in range(args.processes):
            first, count = p * share, min(share, args.chargers - p * share)
            ready = context.Event()
            readies.append(ready)
            worker = context.Process(
                target=_chargers_main,
                args=(
                    (first, count, url, seconds, args.interval, args.drop_every, ready, go),
                    queue,
                ),
            )
            worker.start()
            workers.append(worker)
        for ready in readies:
            while not ready.wait(1):
                if not any(w.is_alive() for w in workers):
                    raise SystemExit("the charger processes died before connecting")
        admin_out: dict[str, Any] = {}
        browsing = threading.Thread(
            target=admins, args=(f"http://127.0.0.1:{web_port}", args.admins, seconds, admin_out)
        )
        mb = 1024 * 1024
        rss = [(0.0, rss_bytes(gateway.pid), tree_rss(web.pid))]
        started = time.perf_counter()
        go.set()
        browsing.start()
        results: list[dict[str, Any]] = []
        while len(results) < len(workers):
            try:
                results.append(queue.get(timeout=60))
            except Exception:  # queue.Empty: a minute passed
                at = (time.perf_counter() - started) / 60
                rss.append((at, rss_bytes(gateway.pid), tree_rss(web.pid)))
                print(
                    f"  {at:4.1f} min: gateway RSS {rss[-1][1] / mb:.0f} MB, web RSS "
                    f"{rss[-1][2] / mb:.0f} MB; load {load_average()}",
                    flush=True,
                )
        browsing.join()
        rss.append(
            ((time.perf_counter() - started) / 60, rss_bytes(gateway.pid), tree_rss(web.pid))
        )
        for worker in workers:
            worker.join()
        time.sleep(1)  # the last disconnects' writes
        in_db = stored(env)
    finally:
        gateway.terminate()
        web.terminate()
        gateway.wait(30)
        web.wait(30)
    fatal = [r["fatal"] for r in results if "fatal" in r]
    if fatal:
        raise SystemExit(f"a charger process failed: {fatal[0]}")
    errors: dict[str, int] = {}
    for r in results:
        for kind, n in r["errors"].items():
            errors[kind] = errors.get(kind, 0) + n
    for kind, n in admin_out.get("errors", {}).items():
        errors[f"admin {kind}"] = errors.get(f"admin {kind}", 0) + n
    acked = sum(r["acked"] for r in results)
    started_sessions = sum(r["sessions_started"] for r in results)
    latencies = sorted(x for r in results for xs in r["latencies"].values() for x in xs)
    by_action: dict[str, list[float]] = {}
    for r in results:
        for action, xs in r["latencies"].items():
            by_action.setdefault(action, []).extend(xs)
    pages = admin_out.get("latencies", [])

    def p(values: list[float], q: float) -> float:
        return values[max(0, int(len(values) * q) - 1)] * 1000 if values else 0.0

    print(f"errors: {sum(errors.values())} {errors or ''}")
    print(
        f"charger messages acknowledged: {len(latencies)}, p50 {p(latencies, 0.5):.1f} ms, "
        f"p99 {p(latencies, 0.99):.1f} ms; drops and reconnects {sum(r['drops'] for r in results)}; "
        f"load process CPU {max(r['cpu_percent'] for r in results):.0f} % of a core"
    )
    for action, xs in sorted(by_action.items()):
        xs.sort()
        print(f"  {action:17} {len(xs):7d}, p50 {p(xs, 0.5):7.1f} ms, p99 {p(xs, 0.99):7.1f} ms")
    print(
        f"sessions started {started_sessions}, stopped {sum(r['sessions_stopped'] for r in results)}; "
        f"in the database {in_db['sessions']}, finished {in_db['finished']}"
    )
    print(
        f"readings acknowledged {acked}, stored {in_db['readings']}: "
        f"{max(0, acked - in_db['readings'])} lost, {max(0, in_db['readings'] - acked)} more than acknowledged"
    )
    print(
        f"admin pages: {len(pages)} ({len(pages) / seconds:.1f}/s), p50 {p(pages, 0.5):.0f} ms, "
        f"p99 {p(pages, 0.99):.0f} ms"
    )
    print(
        f"gateway RSS start {rss[0][1] / mb:.0f} MB, end {rss[-1][1] / mb:.0f} MB; "
        f"web RSS ({args.web_workers} workers) start {rss[0][2] / mb:.0f} MB, end {rss[-1][2] / mb:.0f} MB; "
        f"load {load_average()}"
    )
    if errors or acked != in_db["readings"] or in_db["sessions"] != started_sessions:
        raise SystemExit("the soak failed")


if __name__ == "__main__":
    main()
