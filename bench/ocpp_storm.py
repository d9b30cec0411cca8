"""Benchmark: a reconnect storm. N registered chargers open their websocket at once (as
after a gateway restart or a network blip) and send BootNotification; the time until all
have booted, for the gateway (basic auth checked against the database, boot stored) and for
a bare ``ocpp``-package server in the same run (no auth, stores nothing).

Both servers run as their own process on loopback; this process plays the chargers (plain
OCPP 1.6J frames over websockets, no retries: a refused or timed-out handshake counts as a
failure). Printed: booted and failed chargers, time until the last boot, p50/p99 of the
chargers' connect-to-boot times, and the ratio gateway / bare.

    .venv/bin/python bench/ocpp_storm.py [--chargers 2000] [--timeout 120]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ocpp_gateway import (
    bench_env,
    database_name,
    ensure_database,
    free_port,
    load_average,
    process_cpu_seconds,
    raise_fd_limit,
    wait_port,
)

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "storm-charger-Kx9-Qm2"  # each charger's own: this, a dash and its number

BARE_SERVER = r"""
import asyncio, contextlib, datetime, sys
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, RegistrationStatus
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

class Bare(ChargePoint):
    @on(Action.boot_notification)
    def on_boot(self, **kw):
        return call_result.BootNotification(
            current_time=datetime.datetime.now(datetime.UTC).isoformat(),
            interval=300,
            status=RegistrationStatus.accepted,
        )

async def handler(connection):
    with contextlib.suppress(ConnectionClosed):
        await Bare(connection.request.path.rsplit("/", 1)[-1], connection).start()

async def main(port):
    async with serve(
        handler, "127.0.0.1", port, subprotocols=["ocpp1.6"], ping_interval=None,
        open_timeout=60, backlog=4096,
    ) as server:
        await server.serve_forever()

asyncio.run(main(int(sys.argv[1])))
"""


def identity(i: int) -> str:
    return f"STORM-{i:05d}"


async def storm(url: str, chargers: int, timeout: float, legacy: bool) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    boot_times: list[float] = []
    failures: dict[str, int] = {}
    connections: list[Any] = []
    everyone_started = asyncio.Event()

    async def one(i: int) -> None:
        password = PASSWORD if legacy else f"{PASSWORD}-{i}"
        token = base64.b64encode(f"{identity(i)}:{password}".encode()).decode()
        await everyone_started.wait()
        t0 = time.perf_counter()
        try:
            ws = await connect(
                f"{url}/{identity(i)}",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers={"Authorization": f"Basic {token}"},
                ping_interval=None,
                open_timeout=timeout,
                compression=None,
            )
            connections.append(ws)
            boot = {"chargePointVendor": "storm", "chargePointModel": "Home 11"}
            await ws.send(json.dumps([2, f"b{i}", "BootNotification", boot]))
            reply = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if reply[0] != 3 or reply[2].get("status") != "Accepted":
                raise RuntimeError(f"answered {reply}")
        except Exception as exc:
            name = getattr(getattr(exc, "response", None), "status_code", None)
            key = f"HTTP {name}" if name else type(exc).__name__
            failures[key] = failures.get(key, 0) + 1
            return
        boot_times.append(time.perf_counter() - t0)

    tasks = [asyncio.create_task(one(i)) for i in range(chargers)]
    await asyncio.sleep(0)  # every task is waiting on the same event: all go at once
    started = time.perf_counter()
    everyone_started.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(ws.close() for ws in connections), return_exceptions=True)
    boot_times.sort()
    return {
        "booted": len(boot_times),
        "failures": failures,
        "all_booted_s": elapsed if len(boot_times) == chargers else float("inf"),
        "last_boot_s": boot_times[-1] if boot_times else 0.0,
        "p50_s": statistics.median(boot_times) if boot_times else 0.0,
        "p99_s": boot_times[max(0, int(len(boot_times) * 0.99) - 1)] if boot_times else 0.0,
    }


def prepare_database(env: dict[str, str], chargers: int, legacy: bool) -> None:
    # --legacy: argon2 hashes as before the keyed hash, the first storm after upgrading.
    # One hash for all (of one password), as hashing thousands would take minutes.
    ensure_database(env)
    hashed = "LEGACY" if legacy else 'charger_password_hash(f"{PASSWORD}-{i}")'
    code = f"""
import django; django.setup()
from django.core.management import call_command
from evdms.accounts.models import Organisation
from django.contrib.auth.hashers import make_password
from evdms.charging.credentials import charger_password_hash
from evdms.charging.models import Charger
call_command("migrate", verbosity=0)
PASSWORD = {PASSWORD!r}
LEGACY = make_password(PASSWORD) if {legacy!r} else None
# A PostgreSQL database is reused between runs: start from no storm data (only that).
org, _ = Organisation.objects.get_or_create(slug="storm", defaults=dict(name="Storm", kind="leasing_company"))
Charger.objects.filter(organisation=org).delete()
Charger.objects.bulk_create(
    [Charger(organisation=org, identity=f"STORM-{{i:05d}}", serial="S", password_hash={hashed}) for i in range({chargers})],
    batch_size=1000,
)
"""
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def booted_in_database(env: dict[str, str]) -> int:
    code = """
import django; django.setup()
from evdms.charging.models import Charger
print(Charger.objects.filter(organisation__slug="storm", vendor="storm").count())
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return int(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chargers", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=120, help="per charger, seconds")
    parser.add_argument(
        "--legacy", action="store_true", help="chargers on argon2 hashes (before upgrading)"
    )
    args = parser.parse_args()
    raise_fd_limit()
    env = bench_env()
    database = database_name(env)
    hashes = "argon2 (legacy)" if args.legacy else "keyed"
    print(
        f"{args.chargers} chargers at once, {hashes} hashes; database: {database}; "
        f"load {load_average()}"
    )
    prepare_database(env, args.chargers, args.legacy)
    results = {}
    for name in ("bare", "gateway"):
        port = free_port()
        if name == "bare":
            command = [sys.executable, "-c", BARE_SERVER, str(port)]
        else:
            command = [sys.executable, "manage.py", "run_ocpp_gateway", "--port", str(port)]
        server = subprocess.Popen(
            command, env=env, cwd=ROOT, preexec_fn=raise_fd_limit, stdout=subprocess.DEVNULL
        )
        try:
            wait_port(port)
            time.sleep(1)  # the gateway's start-up is not the storm's cost
            cpu_before = process_cpu_seconds(server.pid)
            client_before = time.process_time()
            results[name] = r = asyncio.run(
                storm(f"ws://127.0.0.1:{port}/ocpp", args.chargers, args.timeout, args.legacy)
            )
            r["cpu_s"] = process_cpu_seconds(server.pid) - cpu_before
            r["client_cpu_s"] = time.process_time() - client_before
        finally:
            server.terminate()
            server.wait(30)
        print(
            f"{name:8} booted {r['booted']:6d}/{args.chargers}, failed {r['failures'] or 0}; "
            f"all booted after {r['all_booted_s']:6.2f} s; connect-to-boot "
            f"p50 {r['p50_s']:5.2f} s, p99 {r['p99_s']:5.2f} s; server CPU {r['cpu_s']:5.1f} s "
            f"(chargers' {r['client_cpu_s']:5.1f} s); "
            f"load {load_average()}"
        )
    stored = booted_in_database(env)
    print(f"gateway  stored the boot of {stored} chargers")
    ratio = results["gateway"]["all_booted_s"] / results["bare"]["all_booted_s"]
    print(f"ratio gateway/bare (time until all booted): {ratio:.2f}")
    cpu_ratio = results["gateway"]["cpu_s"] / results["bare"]["cpu_s"]
    print(f"ratio gateway/bare (server CPU for the storm): {cpu_ratio:.2f}")
    if results["gateway"]["booted"] < args.chargers or stored < args.chargers:
        raise SystemExit("not every charger booted")


if __name__ == "__main__":
    main()
