"""Benchmark: rendering invoice PDFs (PDF/A-3 with the embedded EN 16931 e-invoice) in
one worker process, in pages per second and invoices per second.

Builds a fresh database (SQLite file in a temporary folder, or DATABASE_URL), issues a
10-line Services invoice and a 2,000-line Transactions invoice, and renders each one
``--repeat`` times (the rendering the worker does once per invoice, before the e-mail),
with the split between the CII XML, the PDF pages and the Factur-X embedding. The CPU
time is printed too: on a busy machine it is the figure that does not move.

    .venv/bin/python bench/invoice_pdf.py [--repeat 5] [--sessions 2000]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=2000)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="evdms-bench-")
    os.environ.setdefault("EVDMS_VAR_DIR", tmp)
    os.environ.setdefault("EVDMS_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evdms.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logging.getLogger("factur-x").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection
    from pypdf import PdfReader

    from evdms.invoicing.einvoice import invoice_xml
    from evdms.invoicing.invoice_pdf import invoice_pdf_plain, render_invoice_pdf
    from evdms.invoicing.models import InvoiceKind, LineSource
    from evdms.invoicing.services.issue import DraftLine, invoice_issue
    from evdms.testing.fixtures import make_organisation

    if connection.vendor == "postgresql":
        print("Using", os.environ.get("DATABASE_URL"))
    call_command("migrate", verbosity=0)
    org = make_organisation("bench", "Bench Lease")
    org.billing_name, org.billing_address = "Bench Lease B.V.", "Kerkstraat 12"
    org.billing_postcode, org.billing_city, org.billing_country = "3511 AB", "Utrecht", "NL"
    org.accounts_payable_email = "ap@bench.example"
    org.purchase_order_reference = "PO-BENCH"
    org.save()
    month = date(2026, 11, 1)
    services = invoice_issue(
        organisation=org,
        kind=InvoiceKind.SERVICES,
        month=month,
        lines=[
            DraftLine(
                source=LineSource.DRIVER_FEE,
                description=f"Monthly fee per connected driver, connection {n}",
                quantity=Decimal("17"),
                unit="MON",
                unit_price=Decimal("4.95"),
            )
            for n in range(10)
        ],
    )
    start = datetime(2026, 11, 1, 6, tzinfo=UTC)
    transactions = invoice_issue(
        organisation=org,
        kind=InvoiceKind.TRANSACTIONS,
        month=month,
        lines=[
            DraftLine(
                source=LineSource.PUBLIC_SESSION,
                description=f"Public charging, Fastned Utrecht Centrum, session {n}",
                quantity=Decimal("1"),
                unit_price=Decimal("9.1234"),
                driver_name=f"Driver {n % 300}",
                verification_1="Cost centre 42",
                customer_id=f"EMP-{n % 300:04d}",
                occurred_at=start + timedelta(minutes=20 * n),
                place="Fastned Utrecht Centrum",
                energy_wh=20_000 + n,
            )
            for n in range(args.sessions)
        ],
    )

    print(f"one worker, {args.repeat} renderings each ({connection.vendor})")
    for label, invoice in [
        ("Services, 10 lines", services),
        (f"Transactions, {args.sessions} lines", transactions),
    ]:
        totals, cpu, xml_times, page_times = [], [], [], []
        pages = 0
        for _ in range(args.repeat):
            lines = list(invoice.lines.all())
            vat_lines = list(invoice.vat_lines.all())
            t0 = time.perf_counter()
            invoice_xml(invoice, lines)
            t1 = time.perf_counter()
            invoice_pdf_plain(invoice, lines, vat_lines)
            t2 = time.perf_counter()
            xml_times.append(t1 - t0)
            page_times.append(t2 - t1)
            t0, c0 = time.perf_counter(), time.process_time()
            data = render_invoice_pdf(invoice)  # what the worker runs: all of it
            totals.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            pages = len(PdfReader(io.BytesIO(data)).pages)
        median = statistics.median(totals)
        print(
            f"{label:28} {pages:4} pages, {len(data) / 1024:7.0f} KiB: "
            f"{median * 1000:7.0f} ms per invoice = {1 / median:6.2f} invoices/s, "
            f"{pages / median:6.1f} pages/s "
            f"(CPU {statistics.median(cpu) * 1000:.0f} ms; "
            f"XML {statistics.median(xml_times) * 1000:.0f} ms, "
            f"pages {statistics.median(page_times) * 1000:.0f} ms, "
            f"rest: reading the lines and embedding)"
        )


if __name__ == "__main__":
    main()
