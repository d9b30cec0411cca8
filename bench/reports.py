"""Benchmark: the Detailed transaction report with 1,000,000 sessions.

Builds a fresh database (SQLite file in a temporary folder, or DATABASE_URL): 200
connections sharing home charging data (four per Customer ID), 100,000 drivers with
their memberships and chargers, 1,000,000 completed home sessions over 12 months, and
one reimbursement statement per driver (100,000 sessions on statements). Then:

- the report's first page, filtered by Customer ID (goal: under 200 ms), and a few
  other pages for comparison, through Django's test client (templates included);
- the full CSV export of the unfiltered report, in a separate process (its peak memory
  is the process's maximum resident size: goal under 200 MB), against the database's
  own CSV dump of the same query (`sqlite3 -csv`, `psql \\copy`) in the same run
  (goal: ratio dump time / our time ≥ 0.5).

    .venv/bin/python bench/reports.py [--sessions 1000000 --drivers 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("EVDMS_VAR_DIR", var_dir)
    os.environ.setdefault("EVDMS_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import django

    django.setup()


def build(sessions: int, drivers: int) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from evdms.accounts.models import User
    from evdms.charging.models import Charger, ChargingSession
    from evdms.enrolment.models import Membership
    from evdms.reimbursements.models import Statement, StatementLine
    from evdms.testing.fixtures import make_admin, make_connection, make_organisation

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    org = make_organisation("bench", "Bench Lease")
    make_admin(org, "bench-admin@example.com")
    connections = [
        make_connection(
            org,
            name=f"Customer {i % 50:02d}_Home {i:03d}",
            customer_id=f"CRM-{i % 50:02d}",
            home_charging_data_sharing="yes",
        )
        for i in range(200)
    ]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    per_driver = sessions // drivers
    batch = 5_000
    month_ago = now - timedelta(days=330)
    for offset in range(0, drivers, batch):
        users = User.objects.bulk_create(
            [
                User(email=f"driver{i}@bench.example", full_name=f"Driver {i:06d}", password="!")
                for i in range(offset, min(offset + batch, drivers))
            ]
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    connection=connections[u.pk % 200],
                    organisation=org,
                    driver=u,
                    status="connected",
                    verification_1=f"E-{u.pk}",
                    verification_2=f"XX-{u.pk % 1000:03d}-Y",
                    requested_at=now,
                    connected_at=now,
                )
                for u in users
            ]
        )
        chargers = Charger.objects.bulk_create(
            [
                Charger(
                    organisation=org,
                    identity=f"BENCH-{u.pk}",
                    serial=f"SN{u.pk}",
                    password_hash="!",
                    driver=u,
                )
                for u in users
            ]
        )
        rows = []
        for u, charger in zip(users, chargers, strict=True):
            for n in range(per_driver):
                begin = now - timedelta(days=(u.pk * 7 + n * 33) % 360, hours=u.pk % 5)
                rows.append(
                    ChargingSession(
                        charger=charger,
                        organisation_id=charger.organisation_id,
                        driver=u,
                        connection=connections[u.pk % 200],
                        transaction_id=str(n),
                        started_at=begin,
                        ended_at=begin + timedelta(minutes=30 + (u.pk + n) % 300),
                        energy_wh=1_000 + (u.pk * 37 + n * 101) % 40_000,
                        status="completed",
                    )
                )
        made = ChargingSession.objects.bulk_create(rows, batch_size=5_000)
        # One statement per driver, for their oldest session.
        statements = Statement.objects.bulk_create(
            [
                Statement(
                    driver=u,
                    connection=connections[u.pk % 200],
                    month=month_ago.date().replace(day=1),
                    currency="EUR",
                    total=Decimal("1.00"),
                    status="ready",
                )
                for u in users
            ]
        )
        StatementLine.objects.bulk_create(
            [
                StatementLine(
                    statement=s,
                    session=made[i * per_driver],
                    energy_wh=made[i * per_driver].energy_wh,
                    driver_price=Decimal("0.3100"),
                    cap=Decimal("0.2900"),
                    price_used=Decimal("0.2900"),
                    amount=Decimal(made[i * per_driver].energy_wh) / 1000 * Decimal("0.29"),
                )
                for i, s in enumerate(statements)
            ]
        )
    with connection.cursor() as cursor:  # statistics and visibility, as autovacuum gives
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"set-up: {ChargingSession.objects.count():,} sessions, {drivers:,} drivers, "
        f"{len(connections)} connections in {time.perf_counter() - started:.0f} s "
        f"({connection.vendor})"
    )


def already_built(sessions: int) -> bool:
    """Whether an earlier run left the whole data set (a half-built one is an error)."""
    from django.core.management import call_command

    from evdms.accounts.models import Organisation
    from evdms.charging.models import ChargingSession

    call_command("migrate", verbosity=0)
    if not Organisation.objects.filter(slug="bench").exists():
        return False
    if ChargingSession.objects.count() != sessions:
        raise SystemExit("The kept data is incomplete or of another size: start afresh.")
    return True


def pages(repeat: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from evdms.accounts.models import User

    client = Client()
    client.force_login(
        User.objects.get(email="bench-admin@example.com"),
        backend="evdms.accounts.backends.EmailBackend",
    )
    cases = {
        "first page, Customer ID filter": "/reports/transactions/?customer_id=CRM-07",
        "first page, no filter": "/reports/transactions/",
        "Customer ID + period": "/reports/transactions/?customer_id=CRM-07&start=2026-06-01&end=2026-06-30",
        "driver search (verification)": "/reports/transactions/?driver=E-4242",
        "sort by energy": "/reports/transactions/?sort=-energy",
        "page 1000": "/reports/transactions/?page=1000",
        "dashboard": "/",
    }
    print(f"{'page':34} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for label, url in cases.items():
        client.get(url, follow=True)  # warm
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                response = client.get(url, follow=True)
                times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{label:34} {statistics.median(times):10.1f} {max(times):8.1f} {len(queries):8d}")


def export_sql() -> str:
    """The unfiltered report's SQL with its parameters written in, for the database's
    own CSV dump."""
    from django.db import connection

    from evdms.accounts.models import Organisation
    from evdms.accounts.permissions import Actor
    from evdms.reports.transactions import parse_transaction_query, transactions_for

    actor = Actor(organisation=Organisation.objects.get(slug="bench"), role="network_manager")
    rows = transactions_for(actor, parse_transaction_query({}))
    sql, params = rows.query.sql_with_params()
    if connection.vendor == "sqlite":
        quoted = connection.ops._quote_params_for_last_executed_query(params)  # type: ignore[attr-defined]
        return sql % quoted
    from psycopg import ClientCursor

    connection.ensure_connection()
    return ClientCursor(connection.connection).mogrify(sql, params)


def peak_kb() -> int:
    """The process's peak resident memory (VmHWM: unlike ru_maxrss, it starts afresh at
    exec, so the parent's size does not count)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def export_child() -> None:
    """Run in a separate process: our CSV export of the whole report to /dev/null."""
    from evdms.accounts.models import Organisation
    from evdms.accounts.permissions import Actor
    from evdms.reports.exports import csv_chunks
    from evdms.reports.transactions import parse_transaction_query, transactions_for

    actor = Actor(organisation=Organisation.objects.get(slug="bench"), role="network_manager")
    before = peak_kb()
    t = time.perf_counter()
    size = 0
    rows = transactions_for(actor, parse_transaction_query({}))
    with open(os.devnull, "wb") as out:
        for piece in csv_chunks(rows):
            out.write(piece)
            size += len(piece)
    seconds = time.perf_counter() - t
    peak = peak_kb()
    print(json.dumps({"seconds": seconds, "bytes": size, "peak_kb": peak, "start_kb": before}))


def database_dump(sql: str) -> float:
    from django.db import connection

    t = time.perf_counter()
    if connection.vendor == "sqlite":
        db = str(connection.settings_dict["NAME"])
        subprocess.run(
            [shutil.which("sqlite3") or "sqlite3", "-csv", "-header", db, sql],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    else:
        url = os.environ["DATABASE_URL"]
        subprocess.run(
            [
                shutil.which("psql") or "psql",
                url,
                "-q",
                "-c",
                f"\\copy ({sql}) TO '/dev/null' WITH CSV HEADER",
            ],
            check=True,
        )
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--drivers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="build the SQLite data in DIR once and measure it again on later runs "
        "(with DATABASE_URL: reuse that database when it holds the data)",
    )
    parser.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        setup_django(os.environ["EVDMS_VAR_DIR"])
        export_child()
        return

    var_dir = args.keep or tempfile.mkdtemp(prefix="evdms-bench-")
    Path(var_dir).mkdir(parents=True, exist_ok=True)
    setup_django(var_dir)
    from django.db import connection

    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}, {connection.vendor}"
    )
    if args.keep and already_built(args.sessions):
        print("set-up: reusing the data built earlier")
    else:
        build(args.sessions, args.drivers)
    pages(args.repeat)
    sql = export_sql()
    connection.close()
    dump = database_dump(sql)
    child = subprocess.run(
        [sys.executable, __file__, "--export-child"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "EVDMS_VAR_DIR": var_dir},
    )
    ours = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"CSV export of {args.sessions:,} rows: ours {ours['seconds']:.1f} s "
        f"({ours['bytes'] / 1e6:.0f} MB, {args.sessions / ours['seconds']:,.0f} rows/s), "
        f"database dump {dump:.1f} s; ratio {dump / ours['seconds']:.2f} (goal ≥ 0.5)"
    )
    print(
        f"export process peak memory {ours['peak_kb'] / 1024:.0f} MB "
        f"(of which {ours['start_kb'] / 1024:.0f} MB before the export started; goal < 200 MB)"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
