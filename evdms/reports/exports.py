"""CSV and XLSX files of the Detailed transaction report, of any size, in flat memory.

CSV is written row by row into a small buffer that is handed on (to the HTTP response or
to the export's chunks) whenever it fills up. XLSX uses openpyxl's write-only mode, which
streams rows to a temporary file instead of building the workbook in memory.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.utils import timezone

from evdms.reports.transactions import (
    ReportRows,
    Transaction,
    TransactionType,
    cost_and_reimbursed,
    duration_text,
    reference_of,
    with_times_as_text,
)
from evdms.ui.spreadsheets import CsvWriter, pg_text_cell, xlsx_cells

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


def _money(value: Any) -> Decimal | None:
    # SQLite hands decimals back as floats, exact to 15 digits (as Django's own converter
    # assumes); PostgreSQL as Decimals.
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _utc(value: datetime) -> datetime:
    # SQLite's driver parses declared datetime columns into naive UTC datetimes.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _month(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _cells(row: tuple[Any, ...], tz: Any) -> tuple[Any, ...]:
    """One report row's cells, typed (the XLSX writer keeps numbers as numbers), from a
    row as the database driver gave it."""
    t = Transaction.from_values(
        (
            *row[:1],
            _utc(row[1]),
            _utc(row[2]) if row[2] else None,
            *row[3:13],
            _money(row[13]),
            _money(row[14]),
            row[15],
            _month(row[16]),
        )
    )
    return (
        t.started_at.astimezone(tz).replace(tzinfo=None),
        t.driver_name,
        t.driver_email,
        t.verification_1,
        t.verification_2,
        t.connection,
        t.customer_id,
        t.organisation,
        t.type,
        t.charger,
        t.energy_wh,
        t.duration_seconds,
        t.cost,
        t.reimbursed,
        t.purpose,
        t.currency,
        t.reference,
    )


class _LocalTime:
    """UTC text as stored by SQLite ("2026-10-03 19:05:00") → local "2026-10-03 21:05".

    The offset changes only on whole hours, so each UTC hour is converted once and its
    local hour reused: a million conversions cost a thousand or so.
    """

    def __init__(self, tz: Any) -> None:
        self.tz = tz
        self.hours: dict[str, str | None] = {}

    def __call__(self, utc: str) -> str:
        hour = utc[:13]
        local = self.hours.get(hour, "")
        if local == "":
            moment = datetime.fromisoformat(hour + ":00").replace(tzinfo=UTC).astimezone(self.tz)
            offset = moment.utcoffset()
            whole = offset is not None and offset.total_seconds() % 3600 == 0
            local = self.hours[hour] = moment.isoformat(" ")[:13] if whole else None
        if local is None:  # a zone with a half-hour offset: convert this one fully
            moment = datetime.fromisoformat(utc).replace(tzinfo=UTC).astimezone(self.tz)
            return moment.isoformat(" ", "minutes")[:16]
        return local + utc[13:16]


def _csv_row(row: tuple[Any, ...], local_time: _LocalTime) -> list[Any]:
    """One report row as CSV cells from SQLite (times as stored text): the same values as
    ``_cells``, as text, and as PostgreSQL's COPY writes them. Written out once more here
    because this runs a million times for a large export."""
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
    cost: Decimal | str | None = ""
    reimbursed: Decimal | str | None = ""
    reference = ""
    if driver_price is not None:
        cost, reimbursed = cost_and_reimbursed(wh, _money(driver_price), _money(amount))
        reference = reference_of(statement_id, _month(month))
    duration = ""
    if ended:
        seconds = int(
            (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
        )
        duration = duration_text(seconds)
    return [
        local_time(started),
        name or email,
        email,
        v1,
        v2,
        connection,
        customer_id,
        organisation,
        HOME,
        charger,
        f"{wh // 1000}.{wh % 1000:03d}",
        duration,
        cost,
        reimbursed,
        "",
        currency,
        reference,
    ]


def csv_chunks(rows: ReportRows, progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The CSV file of the report's rows (UTF-8 with a BOM, so spreadsheet programs read
    accents), in pieces of about ``BUFFER`` bytes."""
    buffer = io.StringIO()
    CsvWriter(buffer, lineterminator="\n").writerow(HEADINGS)
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    if connections[rows.db].vendor == "postgresql":
        yield from _pg_csv_chunks(rows, progress)
    else:
        yield from _python_csv_chunks(row_batches(with_times_as_text(rows)), progress)


def _python_csv_chunks(
    batches: Iterable[list[tuple[Any, ...]]], progress: Callable[[int], None] | None = None
) -> Iterator[bytes]:
    local_time = _LocalTime(timezone.get_current_timezone())
    buffer = io.StringIO()
    writer = CsvWriter(buffer, lineterminator="\n")
    done = reported = 0
    for batch in batches:
        writer.writerows([_csv_row(row, local_time) for row in batch])
        done += len(batch)
        if buffer.tell() >= BUFFER:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        if progress is not None and done - reported >= PROGRESS_EVERY:
            progress(done)
            reported = done
    yield buffer.getvalue().encode()
    if progress is not None:
        progress(done)


# PostgreSQL writes the CSV itself (COPY … TO STDOUT): the same cells as ``_csv_row``,
# computed in SQL over the report's own query, with the same formula guard on the text
# people typed (the other text cells are made here and start with a digit or a letter).
# Empty text is written as NULL so that both writers leave it unquoted; tests compare the
# two outputs cell by cell.
_PG_CELLS = f"""
    to_char(t.started_at AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI'),
    {pg_text_cell("COALESCE(NULLIF(t.driver__full_name, ''), t.driver__email)")},
    {pg_text_cell("NULLIF(t.driver__email, '')")},
    {pg_text_cell("NULLIF(t.verification_1, '')")},
    {pg_text_cell("NULLIF(t.verification_2, '')")},
    {pg_text_cell("NULLIF(t.connection__name, '')")},
    {pg_text_cell("NULLIF(t.connection__customer_id, '')")},
    {pg_text_cell("NULLIF(t.connection__organisation__name, '')")},
    %s,
    {pg_text_cell("NULLIF(t.charger__identity, '')")},
    (t.energy_wh / 1000)::text || '.' || lpad((t.energy_wh %% 1000)::text, 3, '0'),
    CASE WHEN t.ended_at IS NULL THEN NULL ELSE
        (d.s / 3600)::text || ':' || lpad(((d.s %% 3600) / 60)::text, 2, '0')
        || ':' || lpad((d.s %% 60)::text, 2, '0') END,
    round(t.energy_wh::numeric / 1000 * t.statement_line__driver_price, 2),
    round(t.statement_line__amount, 2),
    NULL,
    {pg_text_cell("NULLIF(t.connection__currency, '')")},
    CASE WHEN t.statement_line__statement_id IS NULL THEN NULL ELSE
        'ST-' || to_char(t.statement_line__statement__month, 'YYYYMM') || '-'
        || lpad(t.statement_line__statement_id::text,
                greatest(7, length(t.statement_line__statement_id::text)), '0') END
"""


def _sql(rows: ReportRows) -> tuple[str, tuple[Any, ...]] | None:
    """The rows' SQL and parameters; None when Django knows there are none without asking
    the database (no connection in view: an empty ``IN ()``), so an empty selection is an
    empty file rather than an ``EmptyResultSet`` error."""
    try:
        return rows.query.sql_with_params()
    except EmptyResultSet:
        return None


def _pg_csv_chunks(rows: ReportRows, progress: Callable[[int], None] | None) -> Iterator[bytes]:
    compiled = _sql(rows)
    if compiled is None:
        if progress is not None:
            progress(0)
        return
    sql, params = compiled
    # Only constants and Django's compiled query go into the text; values are parameters.
    copy_sql = (
        f"COPY (SELECT {_PG_CELLS} FROM ({sql}) t, LATERAL (SELECT "  # noqa: S608
        "floor(extract(epoch FROM t.ended_at - t.started_at))::bigint AS s) d) "
        "TO STDOUT WITH (FORMAT csv)"
    )
    database = connections[rows.db]
    database.ensure_connection()
    done = 0
    with (
        database.cursor() as wrapper,
        wrapper.cursor.copy(
            copy_sql, [timezone.get_current_timezone_name(), HOME, *params]
        ) as copy,
    ):
        pending = bytearray()
        while block := copy.read():
            pending += block
            if len(pending) >= BUFFER:
                done += pending.count(b"\n")
                yield bytes(pending)
                pending.clear()
        done += pending.count(b"\n")
        yield bytes(pending)
    # Only now: the connection can run nothing else (the progress update) during a COPY.
    if progress is not None:
        progress(done)


def row_batches(rows: ReportRows) -> Iterator[list[tuple[Any, ...]]]:
    """The report's rows for an export, in batches read with a server-side cursor
    (PostgreSQL) or step by step (SQLite), so memory stays flat.

    The rows come as the database driver gives them: Django's per-value converters would
    cost more than the query itself on a million rows, so ``_cells`` and ``_csv_row``
    convert the few values that need it.
    """
    compiled = _sql(rows)
    if compiled is None:
        return
    sql, params = compiled
    cursor = connections[rows.db].chunked_cursor()
    try:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            yield batch
    finally:
        cursor.close()


def write_xlsx(
    batches: Iterable[list[tuple[Any, ...]]],
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
    widths = (17, 22, 28, 18, 18, 24, 14, 20, 8, 20, 12, 10, 10, 12, 10, 9, 18)
    for letter, width in zip("ABCDEFGHIJKLMNOPQ", widths, strict=True):
        sheet.column_dimensions[letter].width = width
    header = []
    for heading in HEADINGS:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    done = reported = 0
    for batch in batches:
        for row in batch:
            started, *middle, wh, seconds, cost, reimbursed, purpose, currency, ref = _cells(
                row, tz
            )
            sheet.append(
                xlsx_cells(
                    sheet,
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
                    ],
                )
            )
        done += len(batch)
        if progress is not None and done - reported >= PROGRESS_EVERY:
            progress(done)
            reported = done
    workbook.save(out)
    if progress is not None:
        progress(done)


def xlsx_file(batches: Iterable[list[tuple[Any, ...]]]) -> IO[bytes]:
    """The workbook in a temporary file (spooled: small ones stay in memory)."""
    out = tempfile.SpooledTemporaryFile(max_size=BUFFER * 8)  # noqa: SIM115
    write_xlsx(batches, out)
    out.seek(0)
    return out


def stamp(moment: datetime | None = None) -> str:
    return timezone.localtime(moment or timezone.now()).strftime("%Y%m%d-%H%M")
