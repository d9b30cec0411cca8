"""Benchmark: the Home Charger Installation Report with 100,000 jobs.

Builds a fresh database (SQLite file in a temporary folder, or the PostgreSQL database
of DATABASE_URL, created when missing and emptied first): one organisation with 50
connections (Customer IDs shared by two connections each), 5 certified installer
companies, 100,000 drivers with their memberships and one installation job each, spread
over every status, installer and connection, with the step dates each status implies;
jobs from *quoted* on have a quote, completed ones a declaration and a warranty. Then:

- the report's first page filtered by status (goal: under 200 ms, a fixed number of
  queries), and a few other pages for comparison, through Django's test client
  (templates included): median (p50) and max over the repeats, and the query count;
- the CSV export of the whole report (our writer: Python on SQLite, COPY with the
  columns' SQL on PostgreSQL) against the database's own CSV dump of the same query in
  the same process (SQLite: the ``sqlite3`` module writing ``csv``; PostgreSQL:
  ``COPY (…) TO STDOUT``), in rows per second, with the ratio (goal: ≥ 0.5).

    .venv/bin/python bench/installations_report.py [--jobs 100000] [--repeat 7]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evdms_bench_installations \\
        .venv/bin/python bench/installations_report.py
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATUSES = (
    "assigned",
    "contacted",
    "surveyed",
    "quoted",
    "quote_approved",
    "scheduled",
    "installed",
    "commissioned",
    "completed",
    "cancelled",
)


def fresh_postgres_database(url: str) -> None:
    """Drop and create the PostgreSQL database of ``url`` (a benchmark's own)."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("evdms_bench"):
        raise SystemExit(f"Refusing to empty {name!r}: use a database named evdms_bench…")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')


def postgres_has_data(url: str) -> bool:
    """Whether the database of ``url`` holds an earlier run's jobs (for --keep)."""
    import psycopg

    try:
        with psycopg.connect(url) as db:
            row = db.execute("SELECT count(*) FROM installations_installationjob").fetchone()
    except psycopg.Error:
        return False
    return bool(row and row[0])


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("EVDMS_VAR_DIR", var_dir)
    os.environ.setdefault("EVDMS_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import django

    django.setup()


def build(jobs: int) -> None:
    from datetime import date, timedelta
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from evdms.accounts.models import OrganisationKind, User
    from evdms.enrolment.models import Membership
    from evdms.installations.models import (
        InstallationJob,
        InstallerCompany,
        JobDocument,
        Quote,
    )
    from evdms.testing.fixtures import make_admin, make_connection, make_organisation

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    org = make_organisation("bench", "Bench Lease")
    make_admin(org, "bench-admin@example.com")
    connections = [
        make_connection(
            org, name=f"Customer {i // 2:02d}_Home {i:02d}", customer_id=f"CRM-{i // 2:02d}"
        )
        for i in range(50)
    ]
    installers = [
        InstallerCompany.objects.create(
            organisation=make_organisation(
                f"installer-{i}", f"Installer {i}", kind=OrganisationKind.INSTALLER
            ),
            certified_until=date(2030, 1, 1),
            capacity=100_000,
        )
        for i in range(5)
    ]
    now = timezone.now()
    batch = 5_000
    for offset in range(0, jobs, batch):
        numbers = range(offset, min(offset + batch, jobs))
        users = User.objects.bulk_create(
            [
                User(email=f"driver{i}@bench.example", full_name=f"Driver {i:06d}", password="!")
                for i in numbers
            ]
        )
        memberships = Membership.objects.bulk_create(
            [
                Membership(
                    connection=connections[i % 50],
                    organisation=org,
                    driver=u,
                    status="connected",
                    requested_at=now,
                    connected_at=now,
                )
                for i, u in zip(numbers, users, strict=True)
            ]
        )
        made = []
        for i, u, m in zip(numbers, users, memberships, strict=True):
            status = STATUSES[i % 10]
            created = now - timedelta(days=1 + (i * 7) % 360, hours=i % 24)
            reached = STATUSES.index(status) if status != "cancelled" else 1
            stamps: dict[str, Any] = {}
            moment = created
            for step in STATUSES[: reached + 1]:
                stamps[f"{step}_at"] = min(moment, now)
                moment = moment + timedelta(days=1 + i % 5)
            if status == "cancelled":
                stamps["cancelled_at"] = min(moment, now)
            last = max(stamps.values())
            made.append(
                InstallationJob(
                    organisation=org,
                    connection=connections[i % 50],
                    membership=m,
                    driver=u,
                    installer=installers[i % 5],
                    status=status,
                    address=f"Street {i}",
                    postcode=f"{1000 + i % 9000} AB",
                    city="Amsterdam",
                    country="NL",
                    created_at=created,
                    status_changed_at=min(last, now),
                    cancel_reason="Driver moved" if status == "cancelled" else "",
                    charger_serial=f"SN{i:07d}" if reached >= 6 and status != "cancelled" else "",
                    mid_certificate=f"MID-{i:07d}"
                    if reached >= 6 and status != "cancelled"
                    else "",
                    warranty_until=(created + timedelta(days=800)).date()
                    if status == "completed"
                    else None,
                    **stamps,
                )
            )
        made = InstallationJob.objects.bulk_create(made)
        quotes = []
        for i, job in zip(numbers, made, strict=True):
            if STATUSES.index(job.status) >= 3 and job.status != "cancelled":
                total = Decimal(1500 + i % 900) + Decimal("0.25")
                org_share = min(total, Decimal("1200.00"))
                quotes.append(
                    Quote(
                        job=job,
                        number=1,
                        status="approved" if job.status != "quoted" else "awaiting_approval",
                        payment_model="budget",
                        currency="EUR",
                        total_excl_vat=(total / Decimal("1.21")).quantize(Decimal("0.01")),
                        total_vat=total - (total / Decimal("1.21")).quantize(Decimal("0.01")),
                        total_incl_vat=total,
                        organisation_share=org_share,
                        driver_share=total - org_share,
                    )
                )
        Quote.objects.bulk_create(quotes)
        JobDocument.objects.bulk_create(
            [
                JobDocument(
                    job=job,
                    kind="declaration",
                    filename="declaration.pdf",
                    content_type="application/pdf",
                    content=b"%PDF-1.4 bench",
                    size=14,
                    sha256="0" * 64,
                )
                for job in made
                if job.status == "completed"
            ]
        )
    with connection.cursor() as cursor:  # statistics and visibility, as autovacuum gives
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(
        f"set-up: {InstallationJob.objects.count():,} jobs, {Quote.objects.count():,} quotes, "
        f"{len(connections)} connections, {len(installers)} installers in "
        f"{time.perf_counter() - started:.0f} s ({connection.vendor})"
    )


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
        "first page, status filter": "/installations/?status=quoted",
        "first page, no filter": "/installations/",
        "status + Customer ID": "/installations/?status=scheduled&customer_id=CRM-07",
        "overdue (14 days)": "/installations/?overdue=1",
        "sort by days in status": "/installations/?sort=-days_in_status",
        "page 100, status filter": "/installations/?status=quoted&page=100",
        "dashboard": "/dashboard/",
    }
    print(f"{'page':30} {'p50 ms':>8} {'max ms':>8} {'queries':>8} {'SQL ms':>8}")
    for label, url in cases.items():
        client.get(url)  # warm
        times, sql = [], []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        print(
            f"{label:30} {statistics.median(times):8.1f} {max(times):8.1f} {len(queries):8d} "
            f"{statistics.median(sql):8.1f}"
        )


def export_rows() -> Any:
    from evdms.accounts.models import Organisation
    from evdms.accounts.permissions import Actor
    from evdms.installations.report import installations_for, parse_installation_query

    actor = Actor(organisation=Organisation.objects.get(slug="bench"), role="network_manager")
    return installations_for(actor, parse_installation_query({}))


def ours(rows: Any) -> tuple[float, int]:
    from evdms.installations.exports import csv_chunks

    t = time.perf_counter()
    size = 0
    with open(os.devnull, "wb") as out:
        for piece in csv_chunks(rows):
            out.write(piece)
            size += len(piece)
    return time.perf_counter() - t, size


def database_dump(rows: Any) -> float:
    """The database's own CSV of the same query (its SQL, its parameters)."""
    from django.db import connection

    sql, params = rows.query.sql_with_params()
    t = time.perf_counter()
    if connection.vendor == "sqlite":
        import sqlite3

        db = sqlite3.connect(str(connection.settings_dict["NAME"]))
        with open(os.devnull, "w", newline="") as out:
            writer = csv.writer(out)
            cursor = db.execute(sql.replace("%s", "?"), params)
            writer.writerow([d[0] for d in cursor.description])
            while batch := cursor.fetchmany(5000):
                writer.writerows(batch)
        db.close()
    else:
        connection.ensure_connection()
        with (
            connection.cursor() as wrapper,
            wrapper.cursor.copy(
                f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", params
            ) as copy,
            open(os.devnull, "wb") as out,
        ):
            while block := copy.read():
                out.write(block)
    return time.perf_counter() - t


def explain(url: str) -> None:
    """Each query of a page with its time (for finding what a slow page waits on)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from evdms.accounts.models import User

    client = Client()
    client.force_login(
        User.objects.get(email="bench-admin@example.com"),
        backend="evdms.accounts.backends.EmailBackend",
    )
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:6]:
        print(q["time"], q["sql"][:300])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--exports", type=int, default=3, help="CSV runs of each writer")
    parser.add_argument("--explain", metavar="URL", help="show a page's slowest queries")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="build the data once (SQLite: in DIR; PostgreSQL: in DATABASE_URL) and "
        "measure it again on later runs",
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    var_dir = args.keep or tempfile.mkdtemp(prefix="evdms-bench-installations-")
    Path(var_dir).mkdir(parents=True, exist_ok=True)
    if url.startswith("postgres"):
        reuse = bool(args.keep) and postgres_has_data(url)
        if not reuse:
            fresh_postgres_database(url)
    else:
        reuse = bool(args.keep) and (Path(var_dir) / "evdms.sqlite3").exists()
    setup_django(var_dir)
    from django.db import connection

    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.uname().nodename}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}, {connection.vendor}"
    )
    if reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:  # statistics for indexes added since
            cursor.execute("ANALYZE")
        print("set-up: reusing the data built earlier")
    else:
        build(args.jobs)
    if args.explain:
        explain(args.explain)
        return
    pages(args.repeat)
    rows = export_rows()
    count = rows.count()
    our_times, dump_times = [], []
    size = 0
    for _ in range(args.exports):  # alternated, so a busy moment costs both alike
        seconds, size = ours(rows)
        our_times.append(seconds)
        dump_times.append(database_dump(rows))
    mine, dump = statistics.median(our_times), statistics.median(dump_times)
    print(
        f"CSV export of {count:,} rows ({size / 1e6:.1f} MB): ours {mine:.2f} s "
        f"({count / mine:,.0f} rows/s), database dump {dump:.2f} s ({count / dump:,.0f} rows/s); "
        f"ratio {dump / mine:.2f} (goal ≥ 0.5)"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
