"""Benchmark: the OCPI token list (our Tokens Sender interface) with many tokens.

Builds a fresh database (SQLite file in a temporary folder, or DATABASE_URL), fills it
with N tokens (RFID cards of 1,000 drivers) and asks for pages at offsets 0, N/2 and
N - 1,000 as a registered partner would (token C, through the whole OCPI transport):
the query count must not depend on N or the offset; the time per page is printed
(median of --repeat). Then a whole pull, following ``Link`` to the end.

    .venv/bin/python bench/ocpi_token_list.py [--tokens 100000] [--limit 100]
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
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-pull", action="store_true", help="skip the whole pull")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="evdms-bench-")
    os.environ.setdefault("EVDMS_VAR_DIR", tmp)
    os.environ.setdefault("EVDMS_ENV", "development")
    os.environ.setdefault("EVDMS_DEBUG", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from evdms.accounts.keyed_hash import keyed_hash
    from evdms.accounts.models import User
    from evdms.ocpi.models import Partner, PartnerStatus
    from evdms.ocpi.transport import TOKEN_C_PURPOSE, authorization_header
    from evdms.public_charging.models import Token
    from evdms.testing.fixtures import make_organisation

    print(f"database: {connection.vendor}; load average {os.getloadavg()[0]:.1f}")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    org = make_organisation("bench", "Bench Lease")
    drivers = User.objects.bulk_create(
        [User(email=f"driver{i}@bench.example", full_name=f"Driver {i}") for i in range(1000)]
    )
    base = timezone.now() - timedelta(days=365)
    step = max(365 * 86400 * 3 // max(args.tokens, 1), 1)  # three per step, over a year
    batch = 10_000
    for offset in range(0, args.tokens, batch):
        Token.objects.bulk_create(
            [
                Token(
                    organisation=org,
                    driver=drivers[i % len(drivers)],
                    type="RFID",
                    uid=f"BENCH{i:010d}",
                    contract_id=f"NL-EVD-B{i:08d}-X",
                    visual_number=f"EVD-{i:08d}",
                    valid=i % 10 != 0,
                    # Spread over the year, a few sharing a second (the order's tie-break).
                    last_updated=base + timedelta(seconds=(i // 3) * step),
                )
                for i in range(offset, min(offset + batch, args.tokens))
            ]
        )
    print(f"{args.tokens} tokens made in {time.perf_counter() - started:.1f} s")
    token = "bench-partner-token-c"
    Partner.objects.create(
        name="Bench CPO",
        status=PartnerStatus.REGISTERED,
        token_c_hash=keyed_hash(token, purpose=TOKEN_C_PURPOSE),
        last_traffic_at=timezone.now() + timedelta(days=1),  # no traffic write per page
    )
    client = Client(HTTP_AUTHORIZATION=authorization_header(token))
    client.get("/ocpi/2.2.1/tokens?limit=1")  # the first request loads URLs and code
    offsets = sorted({0, args.tokens // 2, max(args.tokens - 1000, 0)})
    counts = set()
    for offset in offsets:
        url = f"/ocpi/2.2.1/tokens?offset={offset}&limit={args.limit}"
        times = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200, response.content[:200]
            assert len(response.json()["data"]) == min(args.limit, args.tokens - offset)
        counts.add(len(queries))
        print(
            f"offset {offset:>7}: {len(queries)} queries, "
            f"median {statistics.median(times):6.1f} ms, max {max(times):6.1f} ms per page "
            f"of {args.limit}"
        )
    filtered = (
        f"/ocpi/2.2.1/tokens?date_from={(base + timedelta(days=180)):%Y-%m-%dT%H:%M:%SZ}"
        f"&limit={args.limit}"
    )
    with CaptureQueriesContext(connection) as queries:
        t = time.perf_counter()
        response = client.get(filtered)
        ms = (time.perf_counter() - t) * 1000
    counts.add(len(queries))
    print(
        f"date_from half-way: {len(queries)} queries, {ms:.1f} ms, "
        f"X-Total-Count {response['X-Total-Count']}"
    )
    if len(counts) != 1:
        raise SystemExit(f"the query count depends on the page: {sorted(counts)}")
    if not args.no_pull:
        t = time.perf_counter()
        url: str | None = "/ocpi/2.2.1/tokens?limit=1000"
        pages = seen = 0
        while url:
            response = client.get(url)
            pages += 1
            seen += len(response.json()["data"])
            link = response.get("Link", "")
            url = link[1 : link.index(">")].split("://", 1)[1].split("/", 1)[1] if link else None
            url = f"/{url}" if url else None
        print(
            f"whole pull, limit 1000: {pages} pages, {seen} tokens in {time.perf_counter() - t:.1f} s"
        )
        if seen != args.tokens:
            raise SystemExit(f"the pull saw {seen} tokens of {args.tokens}")


if __name__ == "__main__":
    main()
