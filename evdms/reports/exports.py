"""CSV and XLSX files of the Detailed transaction report, of any size, in flat memory.

CSV is written row by row into a small buffer that is handed on (to the HTTP response or
to the export's chunks) whenever it fills up. XLSX uses openpyxl's write-only mode, which
streams rows to a temporary file instead of building the workbook in memory.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone

from evdms.reports.transactions import (
    TransactionType,
    cost_and_reimbursed,
    duration_text,
    energy_kwh,
    statement_reference,
)

HEADINGS = [
    "Date/time",
    "Driver",
    "Driver e-mail",
    "Driver verification 1",
    "Driver verification 2",
    "Connection",
    "Customer ID",
    "Organisation",
    "Type",
    "Charger or location",
    "Energy (kWh)",
    "Duration",
    "Cost",
    "Reimbursed amount",
    "Purpose",
    "Currency",
    "Statement / invoice",
]
HOME = TransactionType.LABELS[TransactionType.HOME]
FETCH = 5000  # rows per database round trip
BUFFER = 1 << 20  # bytes handed on at a time
PROGRESS_EVERY = 20_000  # rows between progress reports


def _cells(row: tuple[Any, ...], tz: Any) -> tuple[Any, ...]:
    """One report row's cells, typed (the XLSX writer keeps numbers as numbers)."""
    (
        _pk,
        started,
        ended,
        wh,
        name,
        email,
        v1,
        v2,
        connection,
        customer_id,
        organisation,
        charger,
        currency,
        driver_price,
        amount,
        statement_id,
        month,
    ) = row
    cost, reimbursed = cost_and_reimbursed(wh, driver_price, amount)
    return (
        started.astimezone(tz).replace(tzinfo=None),
        name or email,
        email,
        v1 or "",
        v2 or "",
        connection,
        customer_id,
        organisation,
        HOME,
        charger,
        wh,
        int((ended - started).total_seconds()) if ended else None,
        cost,
        reimbursed,
        "",
        currency,
        statement_reference(statement_id, month),
    )


def _text_cells(cells: tuple[Any, ...]) -> list[str]:
    started, *middle, wh, seconds, cost, reimbursed, purpose, currency, ref = cells
    return [
        started.strftime("%Y-%m-%d %H:%M"),
        *middle,
        energy_kwh(wh),
        duration_text(seconds),
        "" if cost is None else str(cost),
        "" if reimbursed is None else str(reimbursed),
        purpose,
        currency,
        ref,
    ]


def csv_chunks(
    rows: Iterable[tuple[Any, ...]], progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    """The CSV file (UTF-8 with a BOM, so spreadsheet programs read accents) in pieces."""
    tz = timezone.get_current_timezone()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADINGS)
    yield b"\xef\xbb\xbf"
    done = 0
    for row in rows:
        writer.writerow(_text_cells(_cells(row, tz)))
        done += 1
        if buffer.tell() >= BUFFER:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    yield buffer.getvalue().encode()
    if progress is not None:
        progress(done)


def write_xlsx(
    rows: Iterable[tuple[Any, ...]],
    out: IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> None:
    """The XLSX workbook, written to ``out`` by openpyxl in write-only mode."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    tz = timezone.get_current_timezone()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Transactions")
    sheet.freeze_panes = "A2"
    for letter, width in zip(
        "ABCDEFGHIJKLMNOPQ",
        (17, 22, 28, 18, 18, 24, 14, 20, 8, 20, 12, 10, 10, 12, 10, 9, 18),
        strict=True,
    ):
        sheet.column_dimensions[letter].width = width
    header = []
    for heading in HEADINGS:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    done = 0
    for row in rows:
        started, *middle, wh, seconds, cost, reimbursed, purpose, currency, ref = _cells(row, tz)
        sheet.append(
            [
                started,
                *middle,
                Decimal(wh) / 1000,
                duration_text(seconds),
                cost,
                reimbursed,
                purpose,
                currency,
                ref,
            ]
        )
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    workbook.save(out)
    if progress is not None:
        progress(done)


def xlsx_file(rows: Iterable[tuple[Any, ...]]) -> IO[bytes]:
    """The workbook in a temporary file (spooled: small ones stay in memory)."""
    out = tempfile.SpooledTemporaryFile(max_size=BUFFER * 8)  # noqa: SIM115
    write_xlsx(rows, out)
    out.seek(0)
    return out


def stamp(moment: datetime | None = None) -> str:
    return timezone.localtime(moment or timezone.now()).strftime("%Y%m%d-%H%M")
