"""The lines of an invoice as CSV: what a finance department reconciles line by line.

One layout for every kind, so an import script reads them all; the Transactions
invoice fills the session columns (date, driver, verification 1/2, Customer ID,
location or charger, kWh) for every public session and every home reimbursement.
The text comes from drivers and partners (a name, a verification answer), so every cell
goes through the codebase's formula guard (``ui.spreadsheets.CsvWriter``); amounts and
kWh stay numbers, a credit's ``-2.50`` included.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from evdms.invoicing.models import InvoiceLine
from evdms.ui.spreadsheets import CsvWriter

HEADER = (
    "Line",
    "Date (local time)",
    "Driver",
    "Verification 1",
    "Verification 2",
    "Customer ID",
    "Location or charger",
    "Description",
    "Quantity",
    "Unit",
    "Unit price",
    "kWh",
    "Amount excl. VAT",
    "VAT category",
    "VAT rate",
)
KWH = Decimal("0.001")


def kwh(energy_wh: int | None) -> Decimal | str:
    return "" if energy_wh is None else (Decimal(energy_wh) / 1000).quantize(KWH)


def line_rows(lines: Iterable[InvoiceLine]) -> Iterator[Sequence[Any]]:
    for line in lines:
        occurred = (
            timezone.localtime(line.occurred_at).strftime("%Y-%m-%d %H:%M")
            if line.occurred_at
            else ""
        )
        yield (
            line.position,
            occurred,
            line.driver_name,
            line.verification_1,
            line.verification_2,
            line.customer_id,
            line.place,
            line.description,
            line.quantity,
            line.unit,
            line.unit_price,
            kwh(line.energy_wh),
            line.net_amount,
            line.vat_category,
            line.vat_rate,
        )


def lines_csv(lines: Iterable[InvoiceLine]) -> str:
    """The CSV text, with a byte-order mark: spreadsheet programs then read the UTF-8 of
    accented names as UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = CsvWriter(out)
    writer.writerow(HEADER)
    writer.writerows(line_rows(lines))
    return out.getvalue()
