"""Every writer of the Detailed transaction report writes the one row of
evdms/reports/transaction_row.py: the CSV file (written by PostgreSQL's COPY on
PostgreSQL, by Python on SQLite), the XLSX file, the API's items and the page's
columns, with the same columns in the same order, the same headings and the same
values for the same sessions.

Dan's session is on a statement (a cost, a reimbursed amount and a reference) and he
answered his first verification question with a formula; Eve's is not on a statement
yet and she has no answers. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from evdms.accounts.models import Role
from evdms.accounts.permissions import Actor
from evdms.enrolment.models import Membership
from evdms.reports import exports
from evdms.reports.tests.conftest import Fleet, at, on_statement
from evdms.reports.tests.test_exports import body
from evdms.reports.tests.test_transactions import URL, rows_of
from evdms.reports.transaction_row import (
    CSV_FORM,
    FIELDS,
    SPREADSHEET_FORM,
    TRANSACTION_COLUMNS,
    Cell,
    Column,
    local_minute,
)
from evdms.reports.transactions import parse_transaction_query, transactions_for
from evdms.testing.fixtures import client_for
from evdms.ui.spreadsheets import csv_cells

pytestmark = pytest.mark.django_db
EXPORT = reverse("reports:transactions_export")
HEADINGS = [column.heading for column in TRANSACTION_COLUMNS]


@pytest.fixture
def two(fleet: Fleet) -> Fleet:
    Membership.objects.filter(pk=fleet.dan_membership.pk).update(verification_1="=1+1")
    dan = fleet.session(fleet.dan, fleet.acme, at(3, hour=21, minute=5), 12_345, minutes=95)
    on_statement(dan, driver_price="0.3100", cap="0.2900")
    fleet.session(fleet.eve, fleet.globex, at(4, hour=8), 2_000, minutes=30)
    return fleet


def definition_values(fleet: Fleet) -> list[list[Any]]:
    """Each row's column values as the definition makes them from the report's query."""
    actor = Actor(organisation=fleet.world.org_a, role=Role.ANALYST)
    rows = transactions_for(actor, parse_transaction_query({"sort": "started"}))
    return [
        [column.value(dict(zip(FIELDS, row, strict=True))) for column in TRANSACTION_COLUMNS]
        for row in rows
    ]


def spreadsheet_value(column: Column, value: Any, tz: tzinfo) -> Any:
    """One value as the definition says a spreadsheet shows it."""
    if column.cell is Cell.TIME:
        return local_minute(value, tz)
    form = SPREADSHEET_FORM.get(column.cell)
    return value if form is None else form(value)


def csv_value(column: Column, value: Any, tz: tzinfo) -> Any:
    """One value as the definition says a CSV file shows it (before the guard)."""
    if column.cell is Cell.TIME:
        return local_minute(value, tz).strftime("%Y-%m-%d %H:%M")
    form = CSV_FORM.get(column.cell)
    return value if form is None else form(value)


def column(key: str) -> int:
    return [c.key for c in TRANSACTION_COLUMNS].index(key)


def test_the_definition_makes_the_cells_people_expect(two: Fleet):
    """The definition itself, pinned: a time, an energy, money and a formula-like text
    as the files show them."""
    tz = timezone.get_current_timezone()
    dan, eve = (
        csv_cells(csv_value(c, v, tz) for c, v in zip(TRANSACTION_COLUMNS, row, strict=True))
        for row in definition_values(two)
    )
    assert dan[column("started")] == "2026-10-03 21:05"
    assert dan[column("energy")] == "12.345"
    assert dan[column("duration")] == "1:35:00"
    assert (dan[column("cost")], dan[column("reimbursed")]) == (Decimal("3.83"), Decimal("3.58"))
    assert dan[column("verification_1")] == "'=1+1"  # the export-safety guard
    assert re.fullmatch(r"ST-202610-\d{7}", dan[column("reference")])
    assert eve[column("cost")] is None and eve[column("reference")] == ""


def _csv_expected(fleet: Fleet) -> list[list[str]]:
    tz = timezone.get_current_timezone()
    return [
        [
            "" if cell is None else str(cell)
            for cell in csv_cells(
                csv_value(c, v, tz) for c, v in zip(TRANSACTION_COLUMNS, row, strict=True)
            )
        ]
        for row in definition_values(fleet)
    ]


def test_the_csv_file_is_the_definitions_rows(two: Fleet, monkeypatch):
    """On PostgreSQL the database writes it (COPY, from the columns' SQL), on SQLite
    Python does (from the columns' values)."""
    copies: list[int] = []
    copy = exports._pg_csv_chunks

    def counted(*args: Any) -> Any:
        copies.append(1)
        return copy(*args)

    monkeypatch.setattr(exports, "_pg_csv_chunks", counted)
    data = body(client_for(two.world.ana).post(EXPORT, {"format": "csv", "sort": "started"}))
    header, *rows = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    assert header == HEADINGS
    assert rows == _csv_expected(two)
    from django.db import connection

    assert len(copies) == (1 if connection.vendor == "postgresql" else 0)


def test_the_xlsx_file_is_the_definitions_rows(two: Fleet):
    data = body(client_for(two.world.ana).post(EXPORT, {"format": "xlsx", "sort": "started"}))
    sheet = load_workbook(io.BytesIO(data))["Transactions"]
    header, *rows = sheet.iter_rows()
    assert [c.value for c in header] == HEADINGS
    tz = timezone.get_current_timezone()
    for cells, values in zip(rows, definition_values(two), strict=True):
        assert len(cells) == len(TRANSACTION_COLUMNS)
        for cell, c, value in zip(cells, TRANSACTION_COLUMNS, values, strict=True):
            expected = spreadsheet_value(c, value, tz)
            if isinstance(expected, Decimal):  # numbers are numbers
                assert cell.data_type == "n" and Decimal(str(cell.value)) == expected, c.key
            else:
                assert (cell.value or "") == (expected or ""), c.key
            if isinstance(expected, str) and expected.startswith("="):
                assert cell.data_type == "s" and cell.quotePrefix  # text, never a formula
    assert isinstance(rows[0][column("started")].value, datetime)


def _api_value(c: Column, value: Any) -> Any:
    """A JSON value of the API back in the definition's type."""
    if value is None:
        return None
    if c.cell is Cell.TIME:
        return datetime.fromisoformat(value)
    if c.cell is Cell.MONEY:
        return Decimal(value)
    return value


def test_the_api_items_are_the_definitions_rows(two: Fleet, client, api_key_for):
    headers = api_key_for(two.world.org_a, Role.ANALYST)
    items = client.get("/api/v1/reports/transactions", {"sort": "started"}, headers=headers)
    fields = [c.field for c in TRANSACTION_COLUMNS]
    tz = timezone.get_current_timezone()
    csv_rows = []
    for item, values in zip(items.json()["items"], definition_values(two), strict=True):
        assert [k for k in item if k in fields] == fields  # the columns, in order
        assert set(item) - set(fields) == {"id", "ended_at"}
        made = [_api_value(c, item[c.field]) for c in TRANSACTION_COLUMNS]
        assert made == values
        csv_rows.append(
            [
                "" if cell is None else str(cell)
                for cell in csv_cells(
                    csv_value(c, v, tz) for c, v in zip(TRANSACTION_COLUMNS, made, strict=True)
                )
            ]
        )
    assert csv_rows == _csv_expected(two)  # the same cells as the files
    dan = items.json()["items"][0]
    assert (dan["energy_wh"], dan["cost"], dan["verification_1"]) == (12_345, "3.83", "=1+1")
    assert dan["started_at"] == "2026-10-03T19:05:00Z"


def test_the_page_shows_the_definitions_columns_and_cells(two: Fleet):
    html = client_for(two.world.ana).get(URL, {"sort": "started"}).content.decode()
    head = html.split('<table class="report">')[1].split("</thead>")[0]
    shown = [
        " ".join(re.sub(r"<[^>]+>", " ", th).split())
        for th in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    ]
    on_page = [c for c in TRANSACTION_COLUMNS if c.on_page]
    assert [t.rstrip(" ▲▼") for t in shown] == [c.heading for c in on_page]
    tz = timezone.get_current_timezone()
    expected = []
    for row in definition_values(two):
        value = dict(zip(TRANSACTION_COLUMNS, row, strict=True))
        cells = []
        for c in on_page:
            if c.cell is Cell.TIME:
                cells.append(timezone.localtime(value[c], tz).strftime("%-d %b %Y %H:%M"))
                continue
            text = csv_value(c, value[c], tz)  # as in the files, unguarded (this is HTML)
            cells.append("—" if text in ("", None) else str(text))
        expected.append(cells)
    driver = on_page.index(TRANSACTION_COLUMNS[column("driver")])
    expected[0][driver] = "Dan Driver dan@example.com"  # the e-mail under the name
    expected[1][driver] = "Eve Ellis eve@example.com"
    assert rows_of(html) == expected
    assert expected[0][:3] == [
        "3 Oct 2026 21:05",
        "Dan Driver dan@example.com",
        "=1+1",
    ]
