"""CSV and XLSX files of the Detailed transaction report, of any size, in flat memory.

CSV is written row by row into a small buffer that is handed on (to the HTTP response or
to the export's chunks) whenever it fills up. XLSX uses openpyxl's write-only mode, which
streams rows to a temporary file instead of building the workbook in memory.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from itertools import repeat
from typing import IO, Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.utils import timezone

from evdms.reports.transaction_row import (
    COPY_JOINS,
    CSV_FORM,
    FIELDS,
    HEADINGS,
    SPREADSHEET_FORM,
    TRANSACTION_COLUMNS,
    Cell,
    Column,
    blank_if_none,
    local_minute,
)
from evdms.reports.transactions import ReportRows, with_times_as_text
from evdms.ui.spreadsheets import CsvWriter, pg_text_cell, xlsx_cells

FETCH = 5000  # rows per database round trip
BUFFER = 1 << 20  # bytes handed on at a time
PROGRESS_EVERY = 20_000  # rows between progress reports


def _money(value: Any) -> Decimal | None:
    # SQLite hands decimals back as floats, exact to 15 digits (as Django's own converter
    # assumes); PostgreSQL as Decimals.
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _utc(value: datetime | None) -> datetime | None:
    # SQLite's driver parses declared datetime columns into naive UTC datetimes.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _month(value: date | str | None) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


# The fields the database driver gives in another form than Django would: from the
# driver's own conversion (the XLSX writer), and from SQLite's stored text (the CSV
# writer, which converts only values that are there).
_FROM_DRIVER: dict[str, Callable[[Any], Any]] = {
    "started_at": _utc,
    "ended_at": _utc,
    "statement_line__driver_price": _money,
    "statement_line__amount": _money,
    "statement_line__statement__month": _month,
    "cost_excl_vat": _money,
    "cost_incl_vat": _money,
}
_FROM_STORED_TEXT: dict[str, Callable[[Any], Any]] = {
    **_FROM_DRIVER,
    # Naive, but UTC like every stored time: differences between two are right.
    "started_at": datetime.fromisoformat,
    "ended_at": datetime.fromisoformat,
}


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


class _Batch:
    """A batch of the query's rows, a field at a time: each field's values as the driver
    gave them, and converted (once, values that are there only) as Django would give
    them."""

    def __init__(self, rows: list[tuple[Any, ...]], convert: Mapping[str, Callable[[Any], Any]]):
        self.count = len(rows)
        self.fields = dict(zip(FIELDS, zip(*rows, strict=True), strict=True))
        self._convert = convert
        self._present: dict[str, list[int] | None] = {}
        self._converted: dict[tuple[str, str | None], Sequence[Any]] = {}

    def present(self, name: str) -> list[int] | None:
        """The rows where the field has a value; None when every row has one."""
        if name not in self._present:
            values = self.fields[name]
            self._present[name] = (
                [i for i, v in enumerate(values) if v is not None] if None in values else None
            )
        return self._present[name]

    def converted(self, name: str, rows: list[int] | None = None) -> Sequence[Any]:
        """The field's values (of ``rows`` only, when given), converted."""
        key = (name, None if rows is None else "present")
        if key not in self._converted:
            values: Sequence[Any] = self.fields[name]
            if rows is not None:
                values = [values[i] for i in rows]
            convert = self._convert.get(name)
            if convert is not None:
                if None in values:
                    values = [v if v is None else convert(v) for v in values]
                else:
                    values = list(map(convert, values))
            self._converted[key] = values
        return self._converted[key]


@dataclass(frozen=True)
class _FileCells:
    """How one kind of file writes the columns' values."""

    convert: Mapping[str, Callable[[Any], Any]]  # the fields the driver gives otherwise
    forms: Mapping[Cell, Callable[[Any], Any]]  # CSV_FORM or SPREADSHEET_FORM
    times: Callable[[_Batch, str], Iterable[Any]]  # a time field's cells
    none_is_blank: bool  # the file writes None as it writes ""

    def column(self, column: Column, batch: _Batch) -> Iterable[Any]:
        """One column's cells for a batch. Made a column at a time, so that a column
        written as it is stored (most are) costs nothing per row, and the others a call
        or two per row: a large export has a million rows."""
        if column.cell is Cell.TIME:
            return self.times(batch, column.reads[0])
        if not column.reads:
            return repeat(column.value({}), batch.count)
        form = self.forms.get(column.cell)
        if column.make is None or (self.none_is_blank and column.make is blank_if_none):
            values = batch.converted(column.reads[0])
            return values if form is None else map(form, values)
        rows = None if column.blank_without is None else batch.present(column.blank_without)
        made: Iterable[Any] = map(column.make, *(batch.converted(f, rows) for f in column.reads))
        if form is not None:
            made = map(form, made)
        if rows is None:
            return made
        blank = column.make(*(None for _ in column.reads))  # what a blank row makes
        cells: list[Any] = [blank if form is None else form(blank)] * batch.count
        for i, cell in zip(rows, made, strict=True):
            cells[i] = cell
        return cells

    def rows(self, rows: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """The batch's rows of cells, in the columns' order."""
        batch = _Batch(rows, self.convert)
        columns = [self.column(column, batch) for column in TRANSACTION_COLUMNS]
        return zip(*columns, strict=True)


def _for_csv(local_time: _LocalTime) -> _FileCells:
    """CSV cells from SQLite's stored text: the same values as the XLSX writer, as text,
    and as PostgreSQL's COPY writes them."""
    return _FileCells(
        convert=_FROM_STORED_TEXT,
        forms=CSV_FORM,
        times=lambda batch, name: map(local_time, batch.fields[name]),
        none_is_blank=True,  # CsvWriter writes None as an empty cell
    )


def _for_spreadsheet(tz: tzinfo) -> _FileCells:
    """Typed cells (numbers stay numbers) from rows as the database driver gives them."""
    return _FileCells(
        convert=_FROM_DRIVER,
        forms=SPREADSHEET_FORM,
        times=lambda batch, name: map(local_minute, batch.converted(name), repeat(tz)),
        none_is_blank=False,
    )


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
    cells = _for_csv(_LocalTime(timezone.get_current_timezone()))
    buffer = io.StringIO()
    writer = CsvWriter(buffer, lineterminator="\n")
    done = reported = 0
    for batch in batches:
        writer.writerows(cells.rows(batch))
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


def _copy_cells() -> tuple[str, list[Any]]:
    """The report's columns in PostgreSQL's SQL, for COPY, and their parameters: the same
    cells as ``_for_csv``, with the same formula guard on the text people typed (the
    other cells are made by us and start with a digit or a letter). Tests compare the two
    writers' outputs cell by cell."""
    cells = [
        pg_text_cell(column.sql) if column.cell is Cell.TEXT else column.sql
        for column in TRANSACTION_COLUMNS
    ]
    parameters = [p for column in TRANSACTION_COLUMNS for p in column.sql_parameters()]
    return ",\n".join(cells), parameters


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
    cells, cell_params = _copy_cells()
    # Only constants and Django's compiled query go into the text; values are parameters.
    copy_sql = (
        f"COPY (SELECT {cells} FROM ({sql}) t, {COPY_JOINS}) "  # noqa: S608
        "TO STDOUT WITH (FORMAT csv)"
    )
    database = connections[rows.db]
    database.ensure_connection()
    done = 0
    with (
        database.cursor() as wrapper,
        wrapper.cursor.copy(copy_sql, [*cell_params, *params]) as copy,
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
    cost more than the query itself on a million rows, so ``_Batch`` converts the few
    values that need it.
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
    from openpyxl.utils import get_column_letter

    cells = _for_spreadsheet(timezone.get_current_timezone())
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Transactions")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(TRANSACTION_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    header = []
    for heading in HEADINGS:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    done = reported = 0
    for batch in batches:
        for row in cells.rows(batch):
            sheet.append(xlsx_cells(sheet, row))
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
