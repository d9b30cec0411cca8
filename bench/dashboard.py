"""Benchmark: the dashboard with 1,000,000 sessions (issue #18: under 100 ms on SQLite
and PostgreSQL, a fixed number of queries).

Builds the data of ``bench/reports.py`` (200 connections, 100,000 drivers, 1,000,000
completed sessions over 12 months, 100,000 statements) and turns every tenth session
into a public one (a partner's record; two in three of those business, priced). Then:

- the dashboard page through Django's test client (templates included), median of
  ``--repeat`` after a warm-up, with its number of queries;
- ``manage.py rebuild_monthly_figures``: the figures from the sources;
- what the triggers cost a write: finishing ``--writes`` sessions, one transaction
  each, with the triggers and with them dropped for the occasion.

    .venv/bin/python bench/dashboard.py [--sessions 1000000 --drivers 100000] [--keep DIR]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/evdms_bench_dash .venv/bin/python bench/dashboard.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reports import already_built, build, setup_django  # noqa: E402


def make_public() -> None:
    """Every tenth session a partner's record of public charging."""
    from django.db import connection

    from evdms.charging.models import ChargingSession

    t = time.perf_counter()
    table = ChargingSession._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET kind = 'public', charger_id = NULL, "
            "public_key = 'NL*BEN*' || CAST(id AS VARCHAR(20)), "
            "purpose = CASE WHEN id % 3 = 0 THEN 'personal' ELSE 'business' END, "
            "cost_incl_vat = 0.3450 * energy_wh / 1000, currency = 'EUR' WHERE id % 10 = 0"
        )
        public = cursor.rowcount
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"set-up: {public:,} sessions made public in {time.perf_counter() - t:.0f} s")


def dashboard(repeat: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from evdms.accounts.models import User

    client = Client()
    client.force_login(
        User.objects.get(email="bench-admin@example.com"),
        backend="evdms.accounts.backends.EmailBackend",
    )
    client.get("/dashboard/")  # warm
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            t = time.perf_counter()
            response = client.get("/dashboard/")
            times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.status_code
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
    print(
        f"dashboard: median {statistics.median(times):.1f} ms, min {min(times):.1f}, "
        f"max {max(times):.1f} ({repeat} runs), {len(queries)} queries"
    )
    for q in slowest:
        print(f"  {float(q['time']) * 1000:6.1f} ms  {q['sql'][:110]}")


def rebuild() -> None:
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("rebuild_monthly_figures")
    print(f"rebuild_monthly_figures: {time.perf_counter() - t:.1f} s")


def writes(count: int) -> None:
    """Finish ``count`` sessions again (completed → active → completed, one transaction
    each, as the OCPP finish does), with the triggers and without."""
    from django.db import connection, transaction

    from evdms.charging.models import ChargingSession
    from evdms.reports import monthly

    ids = list(ChargingSession.objects.order_by("-id").values_list("id", flat=True)[:count])

    def run() -> float:
        t = time.perf_counter()
        for pk in ids:
            with transaction.atomic():
                ChargingSession.objects.filter(pk=pk).update(status="active")
            with transaction.atomic():
                ChargingSession.objects.filter(pk=pk).update(status="completed", energy_wh=5_000)
        return (time.perf_counter() - t) * 1000 / (2 * count)

    with_triggers = run()
    monthly.drop_triggers(connection)
    try:
        without = run()
    finally:
        monthly.install(connection, force=True)  # and rebuild what the run changed
    print(
        f"a session write (one transaction): {with_triggers:.2f} ms with the triggers, "
        f"{without:.2f} ms without ({count * 2:,} writes each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--drivers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--writes", type=int, default=1_000)
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="build the SQLite data in DIR once and measure it again on later runs "
        "(with DATABASE_URL: reuse that database when it holds the data)",
    )
    args = parser.parse_args()
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
        make_public()
    dashboard(args.repeat)
    rebuild()
    dashboard(args.repeat)
    writes(args.writes)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
