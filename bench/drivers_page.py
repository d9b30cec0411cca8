"""Benchmark: the Drivers page and the Connection Requests page with many drivers.

Builds a fresh database (SQLite file in a temporary folder, or DATABASE_URL), fills it
with N drivers spread over 200 connections, and times the first page, a filtered page,
a search and a late page. The query count must not depend on N.

    .venv/bin/python bench/drivers_page.py [--drivers 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drivers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="evdms-bench-")
    os.environ.setdefault("EVDMS_VAR_DIR", tmp)
    os.environ.setdefault("EVDMS_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from evdms.accounts.models import User
    from evdms.connections.models import Connection
    from evdms.enrolment.models import Membership
    from evdms.testing.fixtures import make_admin, make_connection, make_organisation

    if "postgres" in connection.vendor:
        print("Using", os.environ.get("DATABASE_URL"))
    call_command("migrate", verbosity=0)
    org = make_organisation("bench", "Bench Lease")
    admin = make_admin(org, "bench-admin@example.com")
    started = time.perf_counter()
    connections = [
        make_connection(
            org, name=f"Conn {i:03d}", provide_home_charger="no", customer_id=f"CRM-{1000 + i}"
        )
        for i in range(200)
    ]
    now = timezone.now()
    statuses = ["connected"] * 7 + ["pending", "denied", "removed"]
    batch = 10_000
    for offset in range(0, args.drivers, batch):
        users = User.objects.bulk_create(
            [
                User(email=f"driver{i}@bench.example", full_name=f"Driver {i:06d}", password="!")
                for i in range(offset, min(offset + batch, args.drivers))
            ]
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    connection=connections[u.pk % 200],
                    organisation=org,
                    driver=u,
                    status=statuses[u.pk % len(statuses)],
                    verification_1=f"E-{u.pk}",
                    requested_at=now,
                    connected_at=now,
                )
                for u in users
            ]
        )
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum would give
        cursor.execute("ANALYZE")
    print(
        f"set-up: {args.drivers:,} drivers over {Connection.objects.count()} connections "
        f"in {time.perf_counter() - started:.1f} s ({connection.vendor})"
    )

    client = Client()
    client.force_login(admin.user, backend="evdms.accounts.backends.EmailBackend")
    cases = {
        "Drivers, first page": "/drivers/",
        "Drivers, status=pending": "/drivers/?status=pending",
        "Drivers, sort by name": "/drivers/?sort=name",
        "Drivers, search verification": "/drivers/?q=E-99999",
        "Drivers, page 1000": "/drivers/?page=1000",
        "Drivers, Customer ID is (any case)": "/drivers/?customer_id=crm-1042",
        "Drivers, Customer ID contains": "/drivers/?customer_id=104&customer_id_match=contains",
        "Requests, Customer ID contains": "/requests/?customer_id=104&customer_id_match=contains",
        "Connection Requests": "/requests/",
    }
    print(f"{'page':34} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for label, url in cases.items():
        client.get(url)  # warm
        times = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{label:34} {statistics.median(times):10.1f} {max(times):8.1f} {len(queries):8d}")


if __name__ == "__main__":
    main()
