"""Benchmark: the monthly statement run with 100,000 drivers and 3,000,000 home sessions.

For each size (half the drivers, then all of them, to show how the time grows) a fresh
database is built in one process (bulk SQL: executemany on SQLite, COPY on PostgreSQL),
then the statement run of October 2026 runs in a process of its own, so its peak memory
(ru_maxrss) is the run's and nothing else's. The run queues the statement e-mails for the
worker (django-tasks database backend); a sample of them is then made and timed too.

SQLite in a temporary folder by default; for PostgreSQL give it a database of its own:
    createdb -h 127.0.0.1 -U postgres evdms_stbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evdms_stbench make bench-statements

    .venv/bin/python bench/statements.py [--drivers 100000] [--sessions-per-driver 30]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CONNECTIONS = 20
MONTH = date(2026, 10, 1)
EMAIL_SAMPLE = 200


def setup_django() -> None:
    # Development settings: the database task backend, so the run only queues e-mails.
    os.environ.setdefault("EVDMS_ENV", "development")
    os.environ.setdefault("EVDMS_DEBUG", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import django

    django.setup()


def build(drivers: int, per_driver: int) -> None:
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from evdms.accounts import field_crypto as crypto
    from evdms.accounts.models import User
    from evdms.charging.models import Charger, ChargingSession
    from evdms.connections.models import MaxPriceChange
    from evdms.reimbursements.models import BankAccount, HomePrice
    from evdms.testing.fixtures import make_connection, make_organisation

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        call_command("flush", interactive=False, verbosity=0)  # TRUNCATE: a fresh start
    org = make_organisation("bench", "Bench Lease")
    connections = [
        make_connection(org, name=f"Conn {i:02d}", max_price_per_kwh="0.30")
        for i in range(CONNECTIONS)
    ]
    # Each connection's maximum since January; one lowered mid-month, to be looked up.
    MaxPriceChange.objects.update(valid_from=datetime(2026, 1, 1, tzinfo=UTC))
    MaxPriceChange.objects.create(
        connection=connections[0],
        max_price_per_kwh=Decimal("0.22"),
        valid_from=datetime(2026, 10, 15, 12, tzinfo=UTC),
    )
    holder, iban = crypto.encrypt("Bench Driver"), crypto.encrypt("NL91ABNA0417164300")
    batch = 10_000
    for offset in range(0, drivers, batch):
        users = User.objects.bulk_create(
            [
                User(email=f"driver{i}@bench.example", full_name=f"Driver {i:06d}", password="!")
                for i in range(offset, min(offset + batch, drivers))
            ]
        )
        Charger.objects.bulk_create(
            [Charger(organisation=org, identity=f"CP-{u.pk}", serial="S", driver=u) for u in users]
        )
        prices = [
            HomePrice(driver=u, price_per_kwh=Decimal("0.2500"), valid_from=date(2026, 1, 1))
            for u in users
        ]
        prices += [  # every fifth driver changed price mid-month
            HomePrice(driver=u, price_per_kwh=Decimal("0.3100"), valid_from=date(2026, 10, 15))
            for u in users
            if u.pk % 5 == 0
        ]
        HomePrice.objects.bulk_create(prices)
        BankAccount.objects.bulk_create(  # one driver in fifty has no bank details: held
            [
                BankAccount(
                    driver=u,
                    holder_encrypted=holder,
                    iban_encrypted=iban,
                    iban_country="NL",
                    iban_last4="4300",
                )
                for u in users
                if u.pk % 50
            ]
        )
    chargers = dict(Charger.objects.values_list("driver_id", "pk"))
    connection_ids = [c.pk for c in connections]
    table = ChargingSession._meta.db_table
    columns = (
        "charger_id, driver_id, connection_id, transaction_id, start_key, connector_id, "
        "id_tag, started_at, ended_at, energy_wh, status, stop_reason, flags, "
        "signed_meter_data, created_at"
    )
    month_start = datetime(2026, 10, 1, tzinfo=UTC)
    postgres = connection.vendor == "postgresql"

    def rows(driver_ids: list[int]):
        for driver_id in driver_ids:
            for i in range(per_driver):
                # One session in thirty is a late one from September.
                start = (
                    month_start - timedelta(days=3, hours=driver_id % 7)
                    if i == 0
                    else month_start + timedelta(hours=(i * 23 + driver_id) % 740)
                )
                end = start + timedelta(hours=2)
                if not postgres:  # Django's SQLite format: naive UTC text
                    start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
                yield (
                    chargers[driver_id],
                    driver_id,
                    connection_ids[driver_id % CONNECTIONS],
                    f"T{i}",
                    "",
                    1,
                    "",
                    str(start) if not postgres else start,
                    str(end) if not postgres else end,
                    1_000 + (driver_id * 7919 + i * 104_729) % 40_000,
                    "completed",
                    "",
                    "[]",
                    "",
                    str(end) if not postgres else end,
                )

    driver_ids = sorted(chargers)
    with connection.cursor() as cursor:
        for offset in range(0, len(driver_ids), 20_000):
            part = driver_ids[offset : offset + 20_000]
            if postgres:
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows(part):
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * 15)
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows(part))
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would give
    print(
        f"  set-up: {drivers:,} drivers, {drivers * per_driver:,} sessions "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def run() -> None:
    setup_django()
    from django.db import connection

    from evdms.reimbursements.models import Statement, StatementLine
    from evdms.reimbursements.services.statements import statements_run
    from evdms.reimbursements.tasks import statements_email

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = statements_run(MONTH)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mib = usage.ru_maxrss / 1024  # KiB on Linux
    # CPU time of this process (with SQLite, the database's work too): on a shared
    # machine it varies far less than the elapsed time.
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    sample = list(Statement.objects.order_by("pk").values_list("pk", flat=True)[:EMAIL_SAMPLE])
    email_started = time.perf_counter()
    statements_email.call(statement_ids=sample)  # what the worker does, here in-process
    per_email_ms = (time.perf_counter() - email_started) * 1000 / max(len(sample), 1)
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "peak_mib": peak_mib,
                "result": result,
                "lines": StatementLine.objects.count(),
                "late": StatementLine.objects.filter(late=True).count(),
                "per_email_ms": per_email_ms,
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drivers", type=int, default=100_000)
    parser.add_argument("--sessions-per-driver", type=int, default=30)
    parser.add_argument("--phase", choices=["all", "build", "run"], default="all")
    args = parser.parse_args()
    if args.phase == "build":
        return build(args.drivers, args.sessions_per_driver)
    if args.phase == "run":
        return run()

    tmp = tempfile.mkdtemp(prefix="evdms-stbench-")
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    figures = []
    for drivers in (args.drivers // 2, args.drivers):
        env = dict(os.environ, EVDMS_VAR_DIR=tmp)
        if "DATABASE_URL" not in os.environ:
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench-{drivers}.sqlite3"
        print(f"{drivers:,} drivers:", flush=True)
        me = [sys.executable, __file__, "--drivers", str(drivers)]
        per = ["--sessions-per-driver", str(args.sessions_per_driver)]
        subprocess.run([*me, *per, "--phase", "build"], env=env, check=True)
        out = subprocess.run(
            [*me, "--phase", "run"], env=env, check=True, capture_output=True, text=True
        ).stdout
        figure = json.loads(out.strip().splitlines()[-1])
        figures.append((drivers, figure))
        print(
            f"  statement run ({figure['vendor']}): {figure['seconds']:.1f} s "
            f"(CPU {figure.get('cpu_seconds', 0):.1f} s), "
            f"peak memory {figure['peak_mib']:.0f} MiB, {figure['result']}, "
            f"{figure['lines']:,} lines ({figure['late']:,} late); "
            f"statement e-mail with PDF (worker): {figure['per_email_ms']:.1f} ms each",
            flush=True,
        )
    (half, a), (full, b) = figures
    print(
        f"growth: {full / half:.1f}× the data took {b['seconds'] / a['seconds']:.2f}× the time "
        f"({b['cpu_seconds'] / a['cpu_seconds']:.2f}× the CPU time) "
        f"and {b['peak_mib'] / a['peak_mib']:.2f}× the peak memory"
    )
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
