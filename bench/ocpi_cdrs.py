"""Benchmark: CDR ingest over OCPI 2.2.1 (``POST /ocpi/2.2.1/cdrs``) on a real web server
process (gunicorn, as in production), SQLite or PostgreSQL (``DATABASE_URL``).

A registered CPO partner (made directly, with a known token C) posts ``--cdrs`` distinct
CDRs of ``--drivers`` drivers' tokens from ``--clients`` concurrent clients, with
``--retransmit`` of them sent twice (CPOs retry). Printed: CDRs/s ingested, p50/p99 of
the answer, errors (0 expected), the web server's CPU per request. Then the worker's
part, timed apart: the matching of the stored CDRs to drivers and sessions (the task
the POSTs enqueued, run in one process until nothing is left), its CPU per CDR. Last
the count check: every CDR stored once, one session each, and no retransmission stored
again.

    .venv/bin/python bench/ocpi_cdrs.py [--cdrs 5000] [--drivers 500] [--clients 8]
        [--web-workers 4] [--retransmit 0.05]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evdms_bench_cdrs .venv/bin/python bench/ocpi_cdrs.py
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ocpp_gateway import (  # noqa: E402
    bench_env,
    database_name,
    free_port,
    load_average,
    wait_port,
)

TOKEN_C = "bench-cdrs-token-c-Xq7-Lp2-Rw9"
PARTY = ("NL", "BEN")


def fresh_database(env: dict[str, str]) -> None:
    """PostgreSQL: the named database dropped and made again, so counts are this run's."""
    url = env.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def prepare(env: dict[str, str], drivers: int) -> None:
    fresh_database(env)
    code = f"""
import django; django.setup()
from datetime import datetime, UTC
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.conf import settings
from evdms.accounts.keyed_hash import keyed_hash
from evdms.accounts.models import Organisation, User
from evdms.enrolment.models import Membership
from evdms.ocpi.models import Partner, PartnerStatus
from evdms.ocpi.transport import TOKEN_C_PURPOSE
from evdms.public_charging.models import Token
from evdms.testing.fixtures import make_connection
org = Organisation.objects.create(slug="bench-cdrs", name="Bench CDRs", kind="leasing_company")
connection = make_connection(org, name="Bench public", pay_for_public_charging="yes", payment_via="direct_invoice_service")
users = User.objects.bulk_create([User(email=f"cdr-driver-{{i:05d}}@bench.example", full_name=f"Driver {{i}}", password="!") for i in range({drivers})], batch_size=1000)
since = datetime(2026, 1, 1, tzinfo=UTC)
Membership.objects.bulk_create([Membership(connection=connection, organisation=org, driver=u, status="connected", connected_at=since) for u in users], batch_size=1000)
Token.objects.bulk_create([Token(organisation=org, driver=u, type="APP_USER", uid=f"BENCH{{i:05d}}", contract_id=f"NL-EVD-B{{i:08d}}-X", valid=True) for i, u in enumerate(users)], batch_size=1000)
Partner.objects.create(name="Bench CPO", status=PartnerStatus.REGISTERED, registered_at=since, token_c_hash=keyed_hash({TOKEN_C!r}, purpose=TOKEN_C_PURPOSE), roles=[{{"role": "CPO", "country_code": {PARTY[0]!r}, "party_id": {PARTY[1]!r}, "business_details": {{"name": "Bench CPO"}}}}])
print(settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    env["BENCH_OUR_PARTY"] = out.stdout.split("\n")[-2]


def counts(env: dict[str, str]) -> dict[str, int]:
    code = f"""
import django; django.setup()
from evdms.charging.models import ChargingSession
from evdms.ocpi.models import Cdr
print(Cdr.objects.filter(country_code={PARTY[0]!r}, party_id={PARTY[1]!r}).count(),
      Cdr.objects.filter(needs_attention=True).count(),
      ChargingSession.objects.filter(public_key__startswith="NL*BEN*").count())
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    cdrs, attention, sessions = (int(x) for x in out.stdout.split())
    return {"cdrs": cdrs, "attention": attention, "sessions": sessions}


def match_all(env: dict[str, str]) -> dict[str, float]:
    """The worker's part: the matching task run until no CDR waits, in one process."""
    code = """
import django; django.setup()
import time
from django_tasks_db.models import DBTaskResult
from evdms.ocpi.cdrs import cdrs_match
from evdms.ocpi.models import Cdr
pending = Cdr.objects.filter(matched_at__isnull=True).count()
queued = DBTaskResult.objects.count()
began, cpu = time.perf_counter(), time.process_time()
matched = 0
while True:
    done = cdrs_match()
    matched += done
    if not done:
        break
print(pending, queued, matched, time.perf_counter() - began, time.process_time() - cpu)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    pending, queued, matched, elapsed, cpu = out.stdout.split()
    return {
        "pending": int(pending),
        "queued": int(queued),
        "matched": int(matched),
        "elapsed": float(elapsed),
        "cpu": float(cpu),
    }


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a gunicorn master and its workers (their /proc stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / tick
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            children = [int(c) for c in f.read().split()]
    except FileNotFoundError:
        return 0.0
    return own + sum(tree_cpu_seconds(c) for c in children)


def cdr(number: int, drivers: int, our_party: tuple[str, str]) -> dict[str, Any]:
    day = 1 + number % 28
    start = f"2026-11-{day:02d}T{number % 20:02d}:{number % 60:02d}:00Z"
    end = f"2026-11-{day:02d}T{number % 20 + 2:02d}:{number % 60:02d}:00Z"
    kwh = round(5 + (number % 400) / 10, 3)
    return {
        "country_code": PARTY[0],
        "party_id": PARTY[1],
        "id": f"BENCH-CDR-{number:07d}",
        "start_date_time": start,
        "end_date_time": end,
        "session_id": f"BENCH-S-{number:07d}",
        "cdr_token": {
            "country_code": our_party[0],
            "party_id": our_party[1],
            "uid": f"BENCH{number % drivers:05d}",
            "type": "APP_USER",
            "contract_id": f"NL-EVD-B{number % drivers:08d}-X",
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": f"LOC{number % 50}",
            "name": f"Bench location {number % 50}",
            "address": "Stationsplein 1",
            "city": "Utrecht",
            "postal_code": "3511 ED",
            "country": "NLD",
            "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
            "evse_uid": "E1",
            "evse_id": "NL*BEN*E1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [
            {"start_date_time": start, "dimensions": [{"type": "ENERGY", "volume": kwh}]}
        ],
        "total_cost": {"excl_vat": round(kwh * 0.35, 2), "incl_vat": round(kwh * 0.35 * 1.21, 2)},
        "total_energy": kwh,
        "total_time": 2.0,
        "last_updated": end,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cdrs", type=int, default=5000)
    parser.add_argument("--drivers", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--retransmit", type=float, default=0.05)
    parser.add_argument(
        "--new-connection-each",
        action="store_true",
        help="open a TCP connection per CDR (default: each client keeps its connection "
        "open between CDRs, as an HTTP/1.1 client or a partner's connection pool does)",
    )
    args = parser.parse_args()
    env = bench_env("evdms-cdrs-")
    # As a production web server runs: its database connection kept between requests.
    env.setdefault("EVDMS_DB_CONN_MAX_AGE", "60")
    database = database_name(env)
    print(
        f"CDR ingest: {args.cdrs} CDRs of {args.drivers} drivers, {args.clients} clients, "
        f"{args.web_workers} gunicorn workers, {args.retransmit:.0%} retransmitted, "
        f"{'a connection per CDR' if args.new_connection_each else 'connections kept open'}; "
        f"database: {database}; load {load_average()}"
    )
    prepare(env, args.drivers)
    our = env["BENCH_OUR_PARTY"].split()
    our_party = (our[0], our[1])
    bodies = [json.dumps(cdr(n, args.drivers, our_party)).encode() for n in range(args.cdrs)]
    # Retransmissions: a share of the CDRs sent again, later, by another client.
    rng = random.Random(7)
    sends = list(range(args.cdrs))
    sends += rng.sample(range(args.cdrs), int(args.cdrs * args.retransmit))
    rng.shuffle(sends)
    port = free_port()
    web = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "evdms.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.web_workers),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    auth = "Token " + base64.b64encode(TOKEN_C.encode()).decode()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(sends)

    def client() -> None:
        mine: list[float] = []
        connection: http.client.HTTPConnection | None = None
        while True:
            with lock:
                number = next(cursor, None)
            if number is None:
                break
            began = time.perf_counter()
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.request(
                    "POST",
                    "/ocpi/2.2.1/cdrs",
                    body=bodies[number],
                    headers={"Authorization": auth, "Content-Type": "application/json"},
                )
                response = connection.getresponse()
                answer = json.loads(response.read())
                if answer.get("status_code") != 1000 or not response.getheader("Location"):
                    with lock:
                        errors.append(f"{response.status} {answer.get('status_message')}")
            except Exception as exc:  # a benchmark counts every failure
                with lock:
                    errors.append(repr(exc))
                connection.close()
                connection = None
            if args.new_connection_each and connection is not None:
                connection.close()
                connection = None
            mine.append(time.perf_counter() - began)
        if connection is not None:
            connection.close()
        with lock:
            latencies.extend(mine)

    try:
        wait_port(port)
        # Warm-up: each worker imports and connects once (not timed, not counted).
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        warm.request("GET", "/ocpi/versions", headers={"Authorization": auth})
        warm.getresponse().read()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        cpu_before = tree_cpu_seconds(web.pid)
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        server_cpu = tree_cpu_seconds(web.pid) - cpu_before
    finally:
        web.terminate()
        web.wait(timeout=30)
    matching = match_all(env)
    stored = counts(env)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"{database}: {len(sends)} POSTs ({args.cdrs} distinct) in {elapsed:.2f} s: "
        f"{args.cdrs / elapsed:.0f} CDRs/s ingested ({len(sends) / elapsed:.0f} requests/s), "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {len(errors)}"
    )
    # On a shared machine the wall-clock rate says more about the neighbours than about
    # us: the web server's CPU per CDR, and what the machine's cores would ingest at it.
    cpu_ms = server_cpu * 1000 / len(sends)
    cores = os.cpu_count() or 1
    print(
        f"web server CPU {cpu_ms:.1f} ms per request: {cores} cores would ingest "
        f"{cores * 1000 / cpu_ms:.0f} CDRs/s (machine load {load_average()})"
    )
    matched = max(matching["matched"], 1)
    print(
        f"worker: {matching['pending']} CDRs waiting after the POSTs "
        f"({matching['queued']} tasks queued); matched {matching['matched']} in "
        f"{matching['elapsed']:.2f} s, CPU {matching['cpu'] * 1000 / matched:.1f} ms per CDR "
        f"(one worker process: {matched / max(matching['cpu'], 1e-9):.0f} CDRs/s per core)"
    )
    print(
        f"stored: {stored['cdrs']} CDRs, {stored['sessions']} sessions, "
        f"{stored['attention']} needing attention (expected {args.cdrs}, {args.cdrs}, 0)"
    )
    if errors:
        print("first errors:", errors[:5])
    ok = (
        not errors
        and stored["cdrs"] == args.cdrs
        and stored["sessions"] == args.cdrs
        and stored["attention"] == 0
    )
    print("count check:", "every CDR stored once" if ok else "FAILED")
    print(f"load after: {load_average()}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
