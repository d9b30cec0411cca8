"""Exports of the Home Charger Installation Report: CSV and XLSX read back and compared
with the row's definition; large ones made in the worker."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from evdms.installations import exports, views_organisation
from evdms.installations.report import (
    installation_row,
    installations_for,
    parse_installation_query,
)
from evdms.installations.report_row import HEADINGS, INSTALLATION_COLUMNS, Cell
from evdms.installations.tests.report_fixtures import Jobs, jobs_fixture  # noqa: F401
from evdms.reports.models import ReportExport
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db
EXPORT = reverse("installations:report_export")


def body(response: Any) -> bytes:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    spool = getattr(response, "file_to_stream", None)
    if spool is not None:
        spool.close()
    return data


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheet programs need for accents
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def column(key: str) -> int:
    return [c.key for c in INSTALLATION_COLUMNS].index(key)


def test_a_small_csv_export_has_every_column_and_the_filters(jobs: Jobs):
    response = client_for(jobs.world.otto).post(EXPORT, {"format": "csv", "sort": "created"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="installations-')
    header, *rows = csv_rows(body(response))
    assert header == HEADINGS
    assert [r[column("driver")] for r in rows] == ["Eve Electric", "Dan Driver", "'=Fay Formula"]
    eve, dan, fay = rows
    today = timezone.localdate()
    assert dan[column("customer_id")] == "CRM-1"
    assert dan[column("status")] == "Quoted"
    assert dan[column("installer")] == "Sparkfit Installations"
    assert dan[column("days_in_status")] == "20"
    assert dan[column("quote_total")] == "1210.00"
    assert (dan[column("organisation_share")], dan[column("driver_share")]) == ("1000.00", "210.00")
    assert dan[column("currency")] == "EUR"
    assert dan[column("quoted_at")] == timezone.localtime(jobs.dan.quoted_at).date().isoformat()
    assert dan[column("installed_at")] == ""
    assert eve[column("charger_serial")] == "SN-4242"
    assert eve[column("mid_certificate")] == "MID-77"
    assert eve[column("warranty_until")] == "2028-10-01"
    declaration = jobs.eve.documents.get()
    assert eve[column("declaration")] == (
        f"/installations/jobs/{jobs.eve.pk}/documents/{declaration.pk}/"
    )
    assert eve[column("quote_total")] == ""
    assert fay[column("created")] == today.isoformat()
    filtered = client_for(jobs.world.otto).post(EXPORT, {"format": "csv", "status": "quoted"})
    assert [r[column("driver")] for r in csv_rows(body(filtered))[1:]] == ["Dan Driver"]


def test_the_export_never_has_another_organisations_jobs(jobs: Jobs):
    rows = csv_rows(body(client_for(jobs.world.nadia).post(EXPORT, {"format": "csv"})))
    assert "Rob Rival" not in str(rows) and len(rows) == 4


def _expected_csv(jobs: Jobs) -> list[list[str]]:
    """The rows of the definition (the page's and the API's values), as CSV text."""
    actor = jobs.world.actor(jobs.world.nadia)
    expected = []
    for pk in (jobs.eve.pk, jobs.dan.pk, jobs.fay.pk):
        row = installation_row(actor, pk)
        assert row is not None
        cells = []
        for c in INSTALLATION_COLUMNS:
            value = getattr(row, c.key)
            if c.cell is Cell.DAY and isinstance(value, datetime):
                value = timezone.localtime(value).date()
            if value is None:
                value = ""
            text = str(value)
            if c.cell is Cell.TEXT and text and text[0] in "=+-@":
                text = "'" + text
            cells.append(text)
        expected.append(cells)
    return expected


def test_the_csv_file_is_the_definitions_rows(jobs: Jobs, monkeypatch):
    """On PostgreSQL the database writes it (COPY, from the columns' SQL), on SQLite
    Python does (from the stored values)."""
    copies: list[int] = []
    copy = exports._pg_csv_chunks

    def counted(*args: Any) -> Any:
        copies.append(1)
        return copy(*args)

    monkeypatch.setattr(exports, "_pg_csv_chunks", counted)
    data = body(client_for(jobs.world.ana).post(EXPORT, {"format": "csv", "sort": "created"}))
    header, *rows = csv_rows(data)
    assert header == HEADINGS
    assert rows == _expected_csv(jobs)
    assert len(copies) == (1 if connection.vendor == "postgresql" else 0)


def test_an_xlsx_export_has_the_same_rows_with_numbers_as_numbers(jobs: Jobs):
    client = client_for(jobs.world.ana)
    response = client.post(EXPORT, {"format": "xlsx", "sort": "created"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(body(response)))["Installations"]
    header, *rows = sheet.iter_rows()
    assert [c.value for c in header] == HEADINGS
    eve, dan, fay = rows
    assert dan[column("quote_total")].data_type == "n"
    assert Decimal(str(dan[column("quote_total")].value)) == Decimal("1210.00")
    assert dan[column("days_in_status")].value == 20
    assert isinstance(eve[column("warranty_until")].value, datetime | date)
    assert eve[column("charger_serial")].value == "SN-4242"
    # Text people typed that looks like a formula stays text.
    cell = fay[column("driver")]
    assert cell.value == "=Fay Formula" and cell.data_type == "s" and cell.quotePrefix
    assert fay[column("quote_total")].value in (None, "")
    csv_data = csv_rows(body(client.post(EXPORT, {"format": "csv", "sort": "created"})))[1:]
    for sheet_row, csv_row in zip(rows, csv_data, strict=True):
        assert str(sheet_row[column("driver")].value).lstrip("'") == csv_row[
            column("driver")
        ].lstrip("'")


def test_a_large_export_is_made_in_the_worker_and_downloaded(
    jobs: Jobs, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(views_organisation, "SYNC_EXPORT_ROWS", 1)
    client = client_for(jobs.world.otto)  # a Connections Officer has no VIEW_REPORTS
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(EXPORT, {"format": "csv", "customer_id": "CRM-1"})
    assert response.status_code == 302
    export = ReportExport.objects.get()
    assert (export.report, export.status, export.rows_total) == ("installations", "done", 2)
    page = client.get(reverse("installations:report")).content.decode()
    assert reverse("installations:export_file", args=[export.pk]) in page
    data = body(client.get(reverse("installations:export_file", args=[export.pk])))
    assert [r[column("driver")] for r in csv_rows(data)[1:]] == ["'=Fay Formula", "Dan Driver"]
    status = client.get(reverse("installations:export_status", args=[export.pk]))
    assert "2 rows" in status.content.decode()
    # Another organisation's admin, and the transaction report's pages, know nothing of it.
    bob = client_for(jobs.world.bob)
    assert bob.get(reverse("installations:export_file", args=[export.pk])).status_code == 404


def test_a_large_xlsx_export_in_the_worker(
    jobs: Jobs, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(views_organisation, "SYNC_EXPORT_ROWS", 1)
    client = client_for(jobs.world.nadia)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(EXPORT, {"format": "xlsx"})
    export = ReportExport.objects.get()
    data = body(client.get(reverse("installations:export_file", args=[export.pk])))
    sheet = load_workbook(io.BytesIO(data), read_only=True)["Installations"]
    assert len(list(sheet.iter_rows())) == 4


def test_a_transaction_report_export_is_not_an_installation_export(jobs: Jobs):
    from datetime import timedelta

    export = ReportExport.objects.create(
        organisation=jobs.world.org_a,
        role="analyst",
        format="csv",
        status="done",
        expires_at=timezone.now() + timedelta(days=1),
    )
    otto = client_for(jobs.world.otto)
    assert otto.get(reverse("installations:export_file", args=[export.pk])).status_code == 404


def test_an_unknown_format_is_refused_with_a_message(jobs: Jobs):
    response = client_for(jobs.world.ana).post(EXPORT, {"format": "pdf"}, follow=True)
    assert "Choose CSV or Excel (XLSX) for the export." in response.content.decode()


def test_an_empty_selection_is_an_empty_file(jobs: Jobs):
    actor = jobs.world.actor(jobs.world.bob)
    rows = installations_for(actor, parse_installation_query({"status": "installed"}))
    header, *data = csv_rows(b"".join(exports.csv_chunks(rows)))
    assert header == HEADINGS and data == []


def test_an_installation_export_is_not_on_the_transaction_report(jobs: Jobs):
    from datetime import timedelta

    export = ReportExport.objects.create(
        organisation=jobs.world.org_a,
        role="analyst",
        report="installations",
        format="csv",
        status="done",
        expires_at=timezone.now() + timedelta(days=1),
    )
    ana = client_for(jobs.world.ana)
    assert ana.get(reverse("reports:export_file", args=[export.pk])).status_code == 404
    assert f"export-{export.pk}" not in ana.get(reverse("reports:transactions")).content.decode()
