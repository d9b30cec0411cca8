"""Benchmark: the monthly run, statements then invoices (issue #16, performance).

At scale 1 (the issue's target): 1,000 organisations, 100,000 drivers, 3,000,000 home
sessions and 1,000,000 public CDRs (one in five personal, one in a hundred credited),
under 60 s for both runs together on SQLite and on PostgreSQL, peak memory under 500 MB.
``--scale 0.01`` builds a hundredth of it, to check the benchmark works.

A fresh database is built in one process (bulk SQL: executemany on SQLite, COPY on
PostgreSQL); the run goes in a process of its own, so its peak memory (ru_maxrss) is the
run's: the statement run of October 2026 (timed), then the statements are recorded as
paid by the bank in October (bulk SQL, not timed: that is the payout side's work), then
the invoice run of October (timed), which bills those reimbursements, the public
sessions and every organisation's fees.

SQLite in a temporary folder by default; for PostgreSQL give it a database of its own:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evdms_bench_invoices \
        .venv/bin/python bench/invoice_run.py --scale 0.01
(the database is dropped and created again: its name must start with evdms_bench)

    .venv/bin/python bench/invoice_run.py [--scale 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MONTH = date(2026, 10, 1)
TARGET_SECONDS = 60.0
TARGET_MIB = 500.0
# At scale 1.
ORGANISATIONS = 1_000
DRIVERS = 100_000
HOME_SESSIONS = 3_000_000
PUBLIC_CDRS = 1_000_000


def setup_django() -> None:
    # Development settings: the database task backend, so the runs only queue e-mails.
    os.environ.setdefault("EVDMS_ENV", "development")
    os.environ.setdefault("EVDMS_DEBUG", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import django

    django.setup()


def sizes(scale: float) -> dict[str, int]:
    return {
        "organisations": max(1, round(ORGANISATIONS * scale)),
        "drivers": max(1, round(DRIVERS * scale)),
        "home_sessions": max(1, round(HOME_SESSIONS * scale)),
        "public_cdrs": max(1, round(PUBLIC_CDRS * scale)),
    }


def _copy_or_insert(
    cursor: Any, postgres: bool, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    names = ", ".join(columns)
    if postgres:
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def build(scale: float) -> None:
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from evdms.accounts import field_crypto as crypto
    from evdms.accounts.models import Organisation, User
    from evdms.charging.models import Charger, ChargingSession
    from evdms.connections.models import Connection, MaxPriceChange
    from evdms.enrolment.models import Membership
    from evdms.invoicing.models import FeeSchedule
    from evdms.reimbursements.models import BankAccount, HomePrice
    from evdms.reports import monthly
    from evdms.testing.fixtures import make_connection

    n = sizes(scale)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    postgres = connection.vendor == "postgresql"
    if postgres:
        call_command("flush", interactive=False, verbosity=0)  # TRUNCATE: a fresh start
    organisations = Organisation.objects.bulk_create(
        [
            Organisation(
                slug=f"bench-{i:04d}",
                name=f"Bench Lease {i:04d}",
                kind="leasing_company",
                billing_name=f"Bench Lease {i:04d} B.V.",
                billing_country="NL" if i % 10 else "BE",
                vat_number="" if i % 10 else "BE0403170701",
                accounts_payable_email=f"ap{i}@bench.example",
            )
            for i in range(n["organisations"])
        ]
    )
    # One connection made through the service (its rules and history rows), copied.
    template = make_connection(
        organisations[0],
        name="bench_Drivers",
        max_price_per_kwh="0.30",
        pay_for_public_charging="yes",
        payment_via="direct_invoice_service",
    )
    connections = [template]
    for org in organisations[1:]:
        copy = Connection.objects.get(pk=template.pk)
        copy.pk = None
        copy.organisation = org
        copy.name = f"{org.slug}_Drivers"
        copy.invite_token = secrets.token_urlsafe(32)
        connections.append(copy)
    Connection.objects.bulk_create(connections[1:])
    MaxPriceChange.objects.filter(connection=template).update(
        valid_from=datetime(2026, 1, 1, tzinfo=UTC)
    )
    MaxPriceChange.objects.bulk_create(
        [
            MaxPriceChange(
                connection=c,
                max_price_per_kwh=Decimal("0.30"),
                valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            )
            for c in connections[1:]
        ]
    )
    FeeSchedule.objects.bulk_create(
        [
            FeeSchedule(
                organisation=org,
                valid_from=date(2026, 1, 1),
                driver_fee=Decimal("4.95"),
                driver_fee_pro_rata=bool(i % 2),
                warranty_fee=Decimal("2.50"),
                reimbursement_fee_basis="per_item" if i % 3 else "percent",
                reimbursement_fee=Decimal("0.45") if i % 3 else Decimal("1.5"),
                public_fee_basis="percent" if i % 2 else "per_item",
                public_fee=Decimal("2.5") if i % 2 else Decimal("0.25"),
            )
            for i, org in enumerate(organisations)
        ]
    )
    holder, iban = crypto.encrypt("Bench Driver"), crypto.encrypt("NL91ABNA0417164300")
    batch = 10_000
    for offset in range(0, n["drivers"], batch):
        users = User.objects.bulk_create(
            [
                User(email=f"driver{i}@bench.example", full_name=f"Driver {i:06d}", password="!")
                for i in range(offset, min(offset + batch, n["drivers"]))
            ]
        )
        owners = [connections[u.pk % len(connections)] for u in users]
        Membership.objects.bulk_create(
            [
                Membership(
                    connection=c,
                    organisation_id=c.organisation_id,
                    driver=u,
                    status="connected",
                    verification_1=f"EMP{u.pk}",
                    # One driver in seven joined mid-October (pro rata).
                    connected_at=datetime(2026, 10, 12, tzinfo=UTC)
                    if u.pk % 7 == 0
                    else datetime(2026, 1, 1, tzinfo=UTC),
                )
                for u, c in zip(users, owners, strict=True)
            ]
        )
        Charger.objects.bulk_create(
            [
                Charger(
                    organisation_id=c.organisation_id, identity=f"CP-{u.pk}", serial="S", driver=u
                )
                for u, c in zip(users, owners, strict=True)
            ]
        )
        HomePrice.objects.bulk_create(
            [
                HomePrice(driver=u, price_per_kwh=Decimal("0.2500"), valid_from=date(2026, 1, 1))
                for u in users
            ]
        )
        BankAccount.objects.bulk_create(
            [
                BankAccount(
                    driver=u,
                    holder_encrypted=holder,
                    iban_encrypted=iban,
                    iban_country="NL",
                    iban_last4="4300",
                )
                for u in users
            ]
        )
    chargers = list(
        Charger.objects.order_by("driver_id").values_list("driver_id", "pk", "organisation_id")
    )
    connection_of = dict(Membership.objects.values_list("driver_id", "connection_id"))
    table = ChargingSession._meta.db_table
    columns = [
        "organisation_id",
        "kind",
        "charger_id",
        "driver_id",
        "connection_id",
        "transaction_id",
        "start_key",
        "connector_id",
        "id_tag",
        "started_at",
        "ended_at",
        "energy_wh",
        "status",
        "stop_reason",
        "flags",
        "review",
        "signed_meter_data",
        "public_key",
        "operator",
        "location_name",
        "location_address",
        "cost_excl_vat",
        "cost_incl_vat",
        "currency",
        "purpose",
        "created_at",
    ]
    month_start = datetime(2026, 10, 1, tzinfo=UTC)

    def moment(value: datetime) -> Any:
        return value if postgres else str(value.replace(tzinfo=None))  # Django's SQLite text

    def home_rows() -> Iterator[tuple[Any, ...]]:
        per_driver = max(1, n["home_sessions"] // len(chargers))
        for driver_id, charger_id, org_id in chargers:
            for i in range(per_driver):
                start = month_start + timedelta(hours=(i * 23 + driver_id) % 740)
                yield (
                    org_id, "home", charger_id, driver_id, connection_of[driver_id], f"T{i}", "", 1, "",
                    moment(start), moment(start + timedelta(hours=2)),
                    1_000 + (driver_id * 7919 + i * 104_729) % 40_000, "completed", "", "[]", "", "",
                    "", "", "", "", None, None, "", "", moment(start),
                )  # fmt: skip

    def public_rows() -> Iterator[tuple[Any, ...]]:
        for k in range(n["public_cdrs"]):
            driver_id, _charger, org_id = chargers[k % len(chargers)]
            start = month_start + timedelta(minutes=(k * 97) % 44_000)
            cost = Decimal(1_000 + (k * 7_919) % 60_000) / 1000  # 1.000 … 61.000
            yield (
                org_id, "public", None, driver_id, connection_of[driver_id], f"CDR{k}", "", 1, "",
                moment(start), moment(start + timedelta(hours=1)), 5_000 + k % 30_000,
                "credited" if k % 100 == 0 else "completed", "", '["final record received"]', "",
                "", f"NL*BEN*C*CDR{k}", "Bench CPO", f"Station {k % 500}", "Stationsplein, Utrecht",
                cost, cost * Decimal("1.21"), "EUR", "personal" if k % 5 == 0 else "business",
                moment(start),
            )  # fmt: skip

    # The monthly figures' triggers would fire once per session loaded: dropped for the
    # load, installed again and the figures rebuilt, as they would be after such a load.
    # SQLite gets a cache big enough for the load's index pages (its 2 MB default
    # spills and rereads them for hours at this size).
    monthly.drop_triggers(connection)
    with connection.cursor() as cursor:
        if not postgres:
            cursor.execute("PRAGMA cache_size = -1048576")  # 1 GiB, this connection only
        _copy_or_insert(cursor, postgres, table, columns, home_rows())
        _copy_or_insert(cursor, postgres, table, columns, public_rows())
    monthly.install_triggers(connection)
    monthly.rebuild(connection)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"  set-up: {n['organisations']:,} organisations, {n['drivers']:,} drivers, "
        f"{n['home_sessions']:,} home sessions, {n['public_cdrs']:,} public CDRs "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def _mark_paid() -> int:
    """The bank paid every ready statement in October: one payout batch, its lines
    settled (bulk SQL: the payout services are not what is measured here)."""
    from django.db import connection

    from evdms.reimbursements.models import PayoutBatch, PayoutLine, Statement

    settled = datetime(2026, 10, 28, 9, tzinfo=UTC)
    batch = PayoutBatch.objects.create(
        execution_date=settled.date(), status="paid", exported_at=settled, paid_at=settled
    )
    rows = Statement.objects.filter(status="ready").values_list("pk", "month", "total")
    from evdms.reimbursements.models import statement_reference

    table = PayoutLine._meta.db_table
    postgres = connection.vendor == "postgresql"
    when = settled if postgres else str(settled.replace(tzinfo=None))
    with connection.cursor() as cursor:
        _copy_or_insert(
            cursor,
            postgres,
            table,
            [
                "batch_id",
                "statement_id",
                "end_to_end_id",
                "amount",
                "status",
                "failure_reason",
                "settled_at",
            ],
            (
                (batch.pk, pk, statement_reference(pk, month), total, "paid", "", when)
                for pk, month, total in rows
            ),
        )
    Statement.objects.filter(status="ready").update(status="paid")
    return PayoutLine.objects.count()


def run() -> None:
    setup_django()
    from django.db import connection

    from evdms.invoicing.models import Invoice, InvoiceLine
    from evdms.invoicing.services.run import invoices_run
    from evdms.reimbursements.services.statements import statements_run

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    cpu0, started = cpu(), time.perf_counter()
    statements = statements_run(MONTH)
    statements_seconds, statements_cpu = time.perf_counter() - started, cpu() - cpu0
    paid = _mark_paid()
    cpu0, started = cpu(), time.perf_counter()
    invoices = invoices_run(MONTH, issue_date=date(2026, 11, 2))
    invoices_seconds, invoices_cpu = time.perf_counter() - started, cpu() - cpu0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "statements_seconds": statements_seconds,
                "statements_cpu": statements_cpu,
                "statements": statements,
                "payouts_paid": paid,
                "invoices_seconds": invoices_seconds,
                "invoices_cpu": invoices_cpu,
                "invoices": invoices.counts(),
                "invoice_count": Invoice.objects.count(),
                "invoice_lines": InvoiceLine.objects.count(),
                "peak_mib": peak_mib,
            }
        ),
        flush=True,
    )


def fresh_postgres_database(url: str) -> None:
    """Drop and create the benchmark's own PostgreSQL database (named evdms_bench…)."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("evdms_bench"):
        raise SystemExit(f"Refusing to empty {name!r}: use a database named evdms_bench…")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="1: the issue's target sizes")
    parser.add_argument("--phase", choices=["all", "build", "run"], default="all")
    args = parser.parse_args()
    if args.phase == "build":
        return build(args.scale)
    if args.phase == "run":
        return run()

    tmp = tempfile.mkdtemp(prefix="evdms-invbench-")
    env = dict(os.environ, EVDMS_VAR_DIR=tmp)
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    elif os.environ["DATABASE_URL"].startswith("postgres"):
        fresh_postgres_database(os.environ["DATABASE_URL"])
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(f"scale {args.scale:g}: {sizes(args.scale)}", flush=True)
    me = [sys.executable, __file__, "--scale", str(args.scale)]
    subprocess.run([*me, "--phase", "build"], env=env, check=True)
    out = subprocess.run(
        [*me, "--phase", "run"], env=env, check=True, capture_output=True, text=True
    ).stdout
    f = json.loads(out.strip().splitlines()[-1])
    total = f["statements_seconds"] + f["invoices_seconds"]
    print(
        f"  statement run ({f['vendor']}): {f['statements_seconds']:.1f} s "
        f"(CPU {f['statements_cpu']:.1f} s), {f['statements']}\n"
        f"  {f['payouts_paid']:,} statements recorded paid (not timed)\n"
        f"  invoice run: {f['invoices_seconds']:.1f} s (CPU {f['invoices_cpu']:.1f} s), "
        f"{f['invoices']}, {f['invoice_count']:,} invoices, {f['invoice_lines']:,} lines\n"
        f"  both: {total:.1f} s = {total / TARGET_SECONDS:.2f}× the {TARGET_SECONDS:.0f} s target "
        f"(invoices alone {f['invoices_seconds'] / TARGET_SECONDS:.2f}×); peak memory "
        f"{f['peak_mib']:.0f} MiB = {f['peak_mib'] / TARGET_MIB:.2f}× the {TARGET_MIB:.0f} MB target",
        flush=True,
    )
    if args.scale != 1:
        print(
            f"  at scale {args.scale:g}: linear growth would make it about {total / args.scale:.0f} s "
            "at scale 1 (measure it there: the growth need not be linear)"
        )
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
