"""Every CSV and XLSX file the product writes goes through here, so that one rule keeps
spreadsheet programs from running a cell as a formula (CSV/formula injection).

The values come from people we do not control: a driver's verification answer, a
Customer ID, a name. A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is read by Excel, LibreOffice and Google Sheets as a formula (``-`` and
``+`` too: ``-2+3`` is one, and so is ``@SUM(…)``). In CSV such a cell gets a leading
apostrophe, as OWASP recommends: the programs show the text and hide the apostrophe. In
XLSX a cell's type says what it is, so such a cell is written as text (never a formula)
with the "quote prefix" style, which keeps it text when someone edits it.

Only text is touched: numbers (``Decimal``, ``int``) stay numbers, so a negative amount
is still ``-3.50``, never ``'-3.50``. The PostgreSQL path, where the database writes the
CSV itself (``COPY``), applies the same rule in SQL (``pg_text_cell``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from itertools import islice
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_STARTS = frozenset(FORMULA_START)


def csv_cells(row: Iterable[Any]) -> list[Any]:
    # ``type() is str`` rather than isinstance: this runs for every cell of a million-row
    # export, and no str subclass reaches an export.
    return ["'" + v if type(v) is str and v[:1] in _STARTS else v for v in row]


class CsvWriter:
    """``csv.writer`` with the formula guard on every text cell. ``writerow`` returns
    the line it wrote; without ``out`` it only returns it (for streamed responses)."""

    BATCH = 1000

    def __init__(self, out: IO[str] | None = None, **options: Any) -> None:
        self._out = out
        self._buffer = io.StringIO()
        self._plain = csv.writer(self._buffer, **options)
        # csv quotes a field that holds a character of the line terminator, and only
        # those: with "\n" alone a carriage return inside a text would go out bare, and
        # spreadsheet programs start a new row there, with a first cell the guard never
        # saw. A row with one is written as with "\r\n" (which quotes that field, as
        # PostgreSQL's COPY does), then given its own line end.
        self._terminator = self._plain.dialect.lineterminator
        self._bare_cr = "\r" not in self._terminator
        self._row = io.StringIO()
        self._crlf = csv.writer(self._row, **{**options, "lineterminator": "\r\n"})

    def _render(self, rows: list[list[Any]]) -> str:
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._plain.writerows(rows)
        text = buffer.getvalue()
        if not (self._bare_cr and "\r" in text):  # one scan of the text, not of each cell
            return text
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            if any(type(v) is str and "\r" in v for v in row):
                self._row.seek(0)
                self._row.truncate()
                self._crlf.writerow(row)
                buffer.write(self._row.getvalue()[:-2] + self._terminator)
            else:
                self._plain.writerow(row)
        return buffer.getvalue()

    def writerow(self, row: Iterable[Any]) -> str:
        text = self._render([csv_cells(row)])
        if self._out is not None:
            self._out.write(text)
        return text

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        guarded = map(csv_cells, rows)
        while batch := list(islice(guarded, self.BATCH)):
            text = self._render(batch)
            if self._out is not None:
                self._out.write(text)


def xlsx_cells(sheet: Any, row: Iterable[Any]) -> list[Any]:
    """A row for an openpyxl write-only sheet: text that openpyxl would take for a
    formula (``=…``), or a spreadsheet program on editing (``+``, ``-``, ``@``…), becomes
    a text cell with the quote-prefix style; every other value is appended as it is."""
    from openpyxl.cell import WriteOnlyCell

    cells: list[Any] = []
    for value in row:
        if type(value) is str and value[:1] in _STARTS:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cell.quotePrefix = True
            cells.append(cell)
        else:
            cells.append(value)
    return cells


_PG_STARTS = ", ".join(f"chr({ord(c)})" for c in FORMULA_START)


def pg_text_cell(expression: str) -> str:
    """The same rule in PostgreSQL's SQL, for CSV written by ``COPY``: ``expression``
    (SQL text) with an apostrophe in front when it starts like a formula. NULL stays
    NULL."""
    return (
        f"CASE WHEN left({expression}, 1) IN ({_PG_STARTS}) "
        f"THEN '''' || {expression} ELSE {expression} END"
    )
