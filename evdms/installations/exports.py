"""CSV and XLSX files of the Home Charger Installation Report, of any size, in flat
memory: the machinery of the Detailed transaction report (``evdms/reports/exports.py``)
with the installation report's columns.

CSV: on PostgreSQL the database writes it (``COPY``, cells from the columns' SQL); on
SQLite it is written from the stored text a column at a time. XLSX: openpyxl's
write-only mode, rows as the database driver gives them.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

from django.db import connections
from django.utils import timezone

from evdms.installations.report import ReportRows, with_times_as_text
from evdms.installations.report_row import (
    FIELDS,
    HEADINGS,
    INSTALLATION_COLUMNS,
    Cell,
    Column,
    local_day,
)
from evdms.reports.exports import BUFFER, FETCH, PROGRESS_EVERY
from evdms.ui.spreadsheets import CsvWriter, pg_text_cell, xlsx_cells

_INDEX = {name: i for i, name in enumerate(FIELDS)}


class _LocalDay:
    """UTC text as SQLite stores it ("2026-10-03 23:05:00") → the local day
    ("2026-10-04"). The offset changes only on whole hours, so each UTC hour is
    converted once."""

    def __init__(self, tz: Any) -> None:
        self.tz = tz
        self.hours: dict[str, str] = {}

    def __call__(self, utc: str | None) -> str | None:
        if utc is None:
            return None
        hour = utc[:13]
        day = self.hours.get(hour)
        if day is None:
            moment = datetime.fromisoformat(utc).replace(tzinfo=UTC).astimezone(self.tz)
            offset = moment.utcoffset()
            day = moment.date().isoformat()
            if offset is None or offset.total_seconds() % 3600:
                return day  # a half-hour zone: this value only
            self.hours[hour] = day
        return day


def _money_text(value: Any) -> str | None:
    # SQLite gives a subquery's decimal as a float (exact to the cent at these sizes) or
    # an int; PostgreSQL a Decimal.
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return f"{float(value):.2f}"


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _utc(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def row_batches(rows: ReportRows) -> Iterator[list[tuple[Any, ...]]]:
    """The rows in batches, as the database driver gives them, read with a server-side
    cursor (PostgreSQL) or step by step (SQLite), so memory stays flat (as the
    transaction report's ``row_batches``)."""
    from django.core.exceptions import EmptyResultSet

    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:
        return
    cursor = connections[rows.db].chunked_cursor()
    try:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH):
            yield batch
    finally:
        cursor.close()


def _csv_column(
    column: Column, fields: Mapping[str, Sequence[Any]], local: _LocalDay, now: datetime
) -> Iterable[Any]:
    """One column's CSV cells for a batch, from the stored values, as COPY writes them."""
    if column.cell is Cell.DAY:
        values = fields[column.reads[0]]
        if column.key == "warranty_until":
            return [None if v is None else str(v)[:10] for v in values]
        return map(local, values)
    if column.cell is Cell.MONEY:
        return map(_money_text, fields[column.reads[0]])
    if column.key == "days_in_status":
        return [
            None if moment is None else max(0, (now - moment).days)
            for moment in map(_utc, fields[column.reads[0]])
        ]
    if column.make is None:
        return fields[column.reads[0]]
    return map(column.make, *(fields[name] for name in column.reads))


def _csv_rows(batch: list[tuple[Any, ...]], local: _LocalDay, now: datetime) -> Iterator[Any]:
    fields = dict(zip(FIELDS, zip(*batch, strict=True), strict=True))
    return zip(*(_csv_column(c, fields, local, now) for c in INSTALLATION_COLUMNS), strict=True)


def csv_chunks(rows: ReportRows, progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The CSV file (UTF-8 with a BOM, so spreadsheet programs read accents), in pieces
    of about ``BUFFER`` bytes."""
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
    local = _LocalDay(timezone.get_current_timezone())
    now = timezone.now()
    buffer = io.StringIO()
    writer = CsvWriter(buffer, lineterminator="\n")
    done = reported = 0
    for batch in batches:
        writer.writerows(_csv_rows(batch, local, now))
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


def copy_cells() -> tuple[str, list[Any]]:
    """The columns in PostgreSQL's SQL, for COPY, with their parameters; text people
    typed gets the same formula guard as the Python writer gives it."""
    cells = [
        pg_text_cell(column.sql) if column.cell is Cell.TEXT else column.sql
        for column in INSTALLATION_COLUMNS
    ]
    parameters = [p for column in INSTALLATION_COLUMNS for p in column.sql_parameters()]
    return ",\n".join(cells), parameters


def copy_sql(rows: ReportRows) -> tuple[str, list[Any]] | None:
    """The COPY statement of the rows and its parameters; None when there are none."""
    from django.core.exceptions import EmptyResultSet

    try:
        sql, params = rows.query.sql_with_params()
    except EmptyResultSet:
        return None
    cells, cell_params = copy_cells()
    # Only constants and Django's compiled query go into the text; values are parameters.
    return (
        f"COPY (SELECT {cells} FROM ({sql}) t) TO STDOUT WITH (FORMAT csv)",  # noqa: S608
        [*cell_params, *params],
    )


def _pg_csv_chunks(rows: ReportRows, progress: Callable[[int], None] | None) -> Iterator[bytes]:
    statement = copy_sql(rows)
    if statement is None:
        if progress is not None:
            progress(0)
        return
    database = connections[rows.db]
    database.ensure_connection()
    done = 0
    with (
        database.cursor() as wrapper,
        wrapper.cursor.copy(statement[0], statement[1]) as copy,
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
    if progress is not None:
        progress(done)


def _spreadsheet_row(row: tuple[Any, ...], now: datetime) -> list[Any]:
    values = dict(zip(FIELDS, row, strict=True))
    for name in ("created_at", "status_changed_at", *(f for f in FIELDS if f.endswith("_at"))):
        values[name] = _utc(values[name])
    values["warranty_until"] = _date(values["warranty_until"])
    cells = []
    for column in INSTALLATION_COLUMNS:
        if column.key == "days_in_status":
            value = column.make(values["status_changed_at"], now) if column.make else None
        else:
            value = column.value(values)
        if column.cell is Cell.DAY:
            value = local_day(value)
        elif column.cell is Cell.MONEY:
            value = _money(value)
        elif value is None:
            value = ""
        cells.append(value)
    return cells


def write_xlsx(
    batches: Iterable[list[tuple[Any, ...]]],
    out: IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> None:
    """The XLSX workbook, written to ``out`` by openpyxl in write-only mode: days are
    dates, amounts and counts numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    now = timezone.now()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Installations")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(INSTALLATION_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    header = []
    for heading in HEADINGS:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    done = reported = 0
    for batch in batches:
        for row in batch:
            sheet.append(xlsx_cells(sheet, _spreadsheet_row(row, now)))
        done += len(batch)
        if progress is not None and done - reported >= PROGRESS_EVERY:
            progress(done)
            reported = done
    workbook.save(out)
    if progress is not None:
        progress(done)


def xlsx_file(batches: Iterable[list[tuple[Any, ...]]]) -> IO[bytes]:
    out = tempfile.SpooledTemporaryFile(max_size=BUFFER * 8)  # noqa: SIM115
    write_xlsx(batches, out)
    out.seek(0)
    return out
