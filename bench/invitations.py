"""Benchmark: inviting 10,000 addresses from a CSV.

The request must answer at once (it only records the invitations); the worker then sends
them with a steady progress count. E-mail goes to Django's in-memory backend, so this
measures the platform, not an SMTP server.

    .venv/bin/python bench/invitations.py [--addresses 10000]

SQLite in a temporary folder by default; with DATABASE_URL set, that database (give it
one of its own: the benchmark migrates it and adds an organisation).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _memory() -> str:
    try:
        with open("/proc/meminfo") as info:
            kib = int(info.readline().split()[1])
    except (OSError, ValueError, IndexError):
        return "unknown"
    return f"{kib / 1024**2:.0f} GiB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addresses", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("EVDMS_VAR_DIR", tempfile.mkdtemp(prefix="evdms-bench-"))
    os.environ["EVDMS_ENV"] = "development"  # the database task queue, as in production
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import django

    django.setup()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from evdms.enrolment.models import InvitationBatch
    from evdms.enrolment.tasks import send_invitation_batch
    from evdms.testing.fixtures import make_admin, make_connection, make_organisation

    call_command("migrate", verbosity=0)
    org = make_organisation("bench", "Bench Lease")
    admin = make_admin(org, "bench-admin@example.com")
    target = make_connection(org, provide_home_charger="no")
    rows = ["email"] + [f"driver{i}@bench.example" for i in range(args.addresses)]
    upload = SimpleUploadedFile("drivers.csv", "\n".join(rows).encode(), content_type="text/csv")
    client = Client()
    client.force_login(admin.user, backend="evdms.accounts.backends.EmailBackend")

    started = time.perf_counter()
    response = client.post(reverse("enrolment:invite", args=[target.pk]), {"file": upload})
    request_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 302, response.status_code
    batch = InvitationBatch.objects.get()
    print(
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d}, {os.cpu_count()} CPUs, {_memory()} RAM, {connection.vendor}"
    )
    print(f"{connection.vendor}: request accepted {batch.total:,} addresses in {request_ms:.0f} ms")

    samples: list[tuple[float, int]] = []
    sender = threading.Thread(target=lambda: send_invitation_batch.call(batch_id=batch.pk))
    started = time.perf_counter()
    sender.start()
    while sender.is_alive():
        time.sleep(1)
        batch.refresh_from_db()
        samples.append((time.perf_counter() - started, batch.sent))
    sender.join()
    elapsed = time.perf_counter() - started
    batch.refresh_from_db()
    print(
        f"sent {batch.sent:,} invitations in {elapsed:.1f} s ({batch.sent / elapsed:.0f} e-mails/s)"
    )
    print("progress (s, sent): " + ", ".join(f"({t:.0f}, {n})" for t, n in samples))


if __name__ == "__main__":
    main()
