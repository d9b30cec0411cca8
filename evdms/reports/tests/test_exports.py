"""Exports of the Detailed transaction report: read back and compared with the rows."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import management
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from evdms.accounts.models import Role
from evdms.reports import views
from evdms.reports.exports import HEADINGS
from evdms.reports.models import ReportExport, ReportExportChunk
from evdms.reports.tests.conftest import Fleet, at, on_statement
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db
EXPORT = reverse("reports:transactions_export")


def body(response) -> bytes:
    data = b"".join(response.streaming_content) if response.streaming else response.content
    # The server closes the response, and with it the XLSX's temporary file. Not
    # response.close() here: in a test transaction its signal would drop the connection.
    spool = getattr(response, "file_to_stream", None)
    if spool is not None:
        spool.close()
    return data


@pytest.fixture
def three(fleet: Fleet) -> Fleet:
    first = fleet.session(fleet.dan, fleet.acme, at(3, hour=21, minute=5), 12_345, minutes=95)
    on_statement(first, driver_price="0.3100", cap="0.2900")
    fleet.session(fleet.eve, fleet.globex, at(4), 2_000)
    fleet.session(fleet.dan, fleet.acme, at(5), 999)
    fleet.session(fleet.eve, fleet.private, at(6), 5_000)  # no data sharing: never exported
    return fleet


def an_export(fleet: Fleet, *, file: bytes | None = None, **fields: Any) -> ReportExport:
    """A Voltlease export in the state given (by default a week left to keep it)."""
    values: dict[str, Any] = {
        "organisation": fleet.world.org_a,
        "role": Role.ANALYST,
        "format": "csv",
        "expires_at": timezone.now() + timedelta(days=7),
        **fields,
    }
    export = ReportExport.objects.create(**values)
    if file is not None:
        ReportExportChunk.objects.create(export=export, index=0, data=file)
    return export


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheet programs need for accents
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_a_small_csv_export_downloads_at_once_with_every_column(three: Fleet):
    response = client_for(three.world.ana).post(EXPORT, {"format": "csv", "sort": "started"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="transactions-')
    header, *rows = csv_rows(body(response))
    assert header == HEADINGS
    assert rows[0] == [
        "2026-10-03 21:05",
        "Dan Driver",
        "dan@example.com",
        "E-100",
        "AB-12-CD",
        "Acme_Home",
        "CRM-1",
        "Voltlease",
        "Home",
        f"HOME-{three.dan.pk}",
        "",  # operator, cost excl. and incl. VAT, purpose: public sessions only
        "12.345",
        "1:35:00",
        "3.83",
        "3.58",
        "",
        "",
        "",
        "EUR",
        rows[0][19],
    ]
    assert rows[0][19].startswith("ST-202610-")
    assert [r[11] for r in rows] == ["12.345", "2.000", "0.999"]


def test_the_export_follows_the_filters(three: Fleet):
    response = client_for(three.world.nadia).post(EXPORT, {"format": "csv", "customer_id": "CRM-2"})
    _, *rows = csv_rows(body(response))
    assert [r[5] for r in rows] == ["Globex_Home"]


def test_an_xlsx_export_has_the_same_rows_with_numbers_as_numbers(three: Fleet):
    client = client_for(three.world.ana)
    csv_data = csv_rows(body(client.post(EXPORT, {"format": "csv", "sort": "started"})))
    response = client.post(EXPORT, {"format": "xlsx", "sort": "started"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(body(response)), read_only=True)["Transactions"]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert list(cells[0]) == HEADINGS
    assert cells[1][0] == datetime(2026, 10, 3, 21, 5)
    assert Decimal(str(cells[1][11])) == Decimal("12.345")
    assert Decimal(str(cells[1][13])) == Decimal("3.83")
    assert Decimal(str(cells[1][14])) == Decimal("3.58")
    as_text = [
        [str(c) if c is not None else "" for c in row[1:11]] + [row[19] or ""] for row in cells[1:]
    ]
    assert as_text == [[*r[1:11], r[19]] for r in csv_data[1:]]


def test_an_unknown_format_is_refused_with_a_message(three: Fleet):
    response = client_for(three.world.ana).post(EXPORT, {"format": "pdf"}, follow=True)
    assert "Choose CSV or Excel (XLSX) for the export." in response.content.decode()


def test_a_large_export_is_made_in_the_worker_with_progress_then_downloaded(
    three: Fleet, monkeypatch, django_capture_on_commit_callbacks
):
    client = client_for(three.world.nadia)
    small = csv_rows(body(client.post(EXPORT, {"format": "csv", "sort": "energy"})))
    monkeypatch.setattr(views, "SYNC_EXPORT_ROWS", 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(EXPORT, {"format": "csv", "sort": "energy"})
    export = ReportExport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#export-{export.pk}")
    assert export.status == "done" and export.rows_total == 3
    page = client.get(response["Location"]).content.decode()
    assert "3 rows: the export is being made" in page
    assert reverse("reports:export_file", args=[export.pk]) in page
    fragment = client.get(reverse("reports:export_status", args=[export.pk])).content.decode()
    assert "hx-get" not in fragment  # finished: no more polling
    download = client.get(reverse("reports:export_file", args=[export.pk]))
    data = body(download)
    assert csv_rows(data) == small and int(download["Content-Length"]) == len(data)


def test_an_export_in_progress_shows_a_progress_bar_that_polls(three: Fleet):
    export = an_export(three, format="xlsx", status="running", rows_total=200_000, rows_done=50_000)
    html = client_for(three.world.ana).get(reverse("reports:export_status", args=[export.pk]))
    text = html.content.decode()
    assert 'hx-trigger="every 1s"' in text and 'value="25"' in text
    assert "50,000 of 200,000 rows" in text  # grouped, as every count (#19)
    missing = client_for(three.world.ana).get(reverse("reports:export_file", args=[export.pk]))
    assert missing.status_code == 404  # nothing to download before it is ready


def test_an_export_is_only_for_the_organisation_that_asked(three: Fleet, api_key_for, client):
    export = an_export(three, status="done", size=1, file=b"x")
    bob = client_for(three.world.bob)
    for name in ("reports:export_status", "reports:export_file"):
        assert bob.get(reverse(name, args=[export.pk])).status_code == 404
        assert bob.get(reverse(name, args=[987654])).status_code == 404
    rival = api_key_for(three.world.org_b)
    for url in (
        f"/api/v1/reports/exports/{export.pk}",
        f"/api/v1/reports/exports/{export.pk}/file",
    ):
        assert client.get(url, headers=rival).status_code == 404


def test_expired_exports_are_gone_and_purged(three: Fleet):
    export = an_export(
        three, status="done", expires_at=timezone.now() - timedelta(seconds=1), file=b"x"
    )
    client = client_for(three.world.ana)
    assert client.get(reverse("reports:export_file", args=[export.pk])).status_code == 404
    management.call_command("purge_report_exports")
    assert not ReportExport.objects.exists() and not ReportExportChunk.objects.exists()


def test_a_rerun_of_a_finished_export_changes_nothing(
    three: Fleet, django_capture_on_commit_callbacks
):
    from evdms.reports.tasks import report_export_run

    client = client_for(three.world.ana)
    with django_capture_on_commit_callbacks(execute=True):
        views.SYNC_EXPORT_ROWS, old = 0, views.SYNC_EXPORT_ROWS
        try:
            client.post(EXPORT, {"format": "xlsx"})
        finally:
            views.SYNC_EXPORT_ROWS = old
    export = ReportExport.objects.get()
    chunks = list(ReportExportChunk.objects.values_list("pk", flat=True))
    assert report_export_run.call(export_id=export.pk) == "not claimed"
    assert list(ReportExportChunk.objects.values_list("pk", flat=True)) == chunks


def test_a_dead_workers_export_is_taken_over_and_made_whole(three: Fleet):
    from evdms.reports.tasks import report_export_run

    export = an_export(
        three,
        status="running",
        rows_total=3,
        rows_done=1,
        updated_at=timezone.now() - timedelta(hours=1),
        file=b"half a file",
    )
    assert report_export_run.call(export_id=export.pk) == "done"
    data = b"".join(bytes(c) for c in export.chunks.values_list("data", flat=True))
    assert b"half a file" not in data and len(csv_rows(data)) == 4


def test_the_api_streams_csv_and_makes_exports(
    three: Fleet, client, api_key_for, django_capture_on_commit_callbacks
):
    headers = api_key_for(three.world.org_a, Role.ANALYST)
    streamed = client.get("/api/v1/reports/transactions.csv", {"sort": "started"}, headers=headers)
    assert streamed.status_code == 200
    rows = csv_rows(body(streamed))
    with django_capture_on_commit_callbacks(execute=True):
        made = client.post(
            "/api/v1/reports/exports",
            {"format": "csv", "sort": "started"},
            content_type="application/json",
            headers=headers,
        )
    assert made.status_code == 202 and made.json()["status"] == "queued"
    status = client.get(f"/api/v1/reports/exports/{made.json()['id']}", headers=headers).json()
    assert status["status"] == "done" and status["rows_total"] == 3
    file = client.get(status["download_url"], headers=headers)
    assert csv_rows(body(file)) == rows
    bad = client.post(
        "/api/v1/reports/exports",
        {"format": "pdf"},
        content_type="application/json",
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "format"


def test_awkward_text_is_quoted_the_same_way_on_every_database(fleet: Fleet):
    """On PostgreSQL the database writes the CSV, on SQLite Python does: the bytes must be
    the same (this test runs on both in CI)."""
    from evdms.accounts.models import User
    from evdms.testing.fixtures import make_membership

    odd = User.objects.create(email="obrien@example.com", full_name='Seán O\'Brien, "Jr"')
    make_membership(fleet.globex, odd)  # no verification answers: empty cells
    session = fleet.session(odd, fleet.globex, at(7, month=3, hour=1, minute=59), 7, minutes=1)
    statement = on_statement(session, driver_price="0.3333", cap="0.3333")
    response = client_for(fleet.world.nadia).post(EXPORT, {"format": "csv"})
    data = body(response)
    assert data.decode("utf-8-sig").splitlines()[1] == (
        '2026-03-07 01:59,"Seán O\'Brien, ""Jr""",obrien@example.com,,,Globex_Home,CRM-2,'
        f"Voltlease,Home,HOME-{odd.pk},,0.007,0:01:00,0.00,0.00,,,,EUR,{statement.reference}"
    )
    assert data.count(b"\r") == 0


@pytest.mark.parametrize(
    ("zone", "utc", "local"),
    [
        ("Europe/Amsterdam", "2026-03-29 00:59:00", "2026-03-29 01:59"),  # winter time
        ("Europe/Amsterdam", "2026-03-29 01:00:00", "2026-03-29 03:00"),  # summer time
        ("Europe/Amsterdam", "2026-10-25 00:30:00.123456", "2026-10-25 02:30"),
        ("Europe/Amsterdam", "2026-10-25 01:30:00", "2026-10-25 02:30"),  # the hour twice
        ("Asia/Kolkata", "2026-01-01 10:15:00", "2026-01-01 15:45"),  # a half-hour zone
    ],
)
def test_stored_utc_text_becomes_local_time_across_clock_changes(zone, utc, local):
    from zoneinfo import ZoneInfo

    from evdms.reports.exports import _LocalTime

    convert = _LocalTime(ZoneInfo(zone))
    assert convert(utc) == local
    assert convert(utc) == local  # and again, from what it remembered


def test_formulas_are_neutralised_the_same_way_on_every_database(fleet: Fleet):
    """The guard of evdms/ui/spreadsheets.py in Python (SQLite) and in COPY's SQL
    (PostgreSQL): the same bytes, a carriage return inside a text quoted by both."""
    from evdms.enrolment.models import Membership

    Membership.objects.filter(pk=fleet.dan_membership.pk).update(
        verification_1="=1+1", verification_2="ok\r@SUM(A1)"
    )
    fleet.acme.customer_id = "-CRM"
    fleet.acme.save(update_fields=["customer_id"])
    fleet.session(fleet.dan, fleet.acme, at(7, hour=9), 1_500, minutes=30)
    data = body(client_for(fleet.world.nadia).post(EXPORT, {"format": "csv"}))
    assert data.decode("utf-8-sig").split("\n")[1] == (
        "2026-10-07 09:00,Dan Driver,dan@example.com,'=1+1,\"ok\r@SUM(A1)\",Acme_Home,'-CRM,"
        f"Voltlease,Home,HOME-{fleet.dan.pk},,1.500,0:30:00,,,,,,EUR,"
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "params", [{"type": "public"}, {"customer_id": "NOBODY"}], ids=["public", "unknown-id"]
)
def test_an_empty_selection_exports_an_empty_file_on_every_path(
    three: Fleet, fmt, params, client, api_key_for, caplog, django_capture_on_commit_callbacks
):
    """Nothing to show is an empty report (the headings only), not an error: at once, in
    the worker and over the API, with no traceback in the log."""
    admin = client_for(three.world.ana)
    headers = api_key_for(three.world.org_a, Role.ANALYST)

    def rows_of(data: bytes) -> list[list[Any]]:
        if fmt == "csv":
            return csv_rows(data)
        sheet = load_workbook(io.BytesIO(data), read_only=True)["Transactions"]
        return [list(r) for r in sheet.iter_rows(values_only=True)]

    files = [body(admin.post(EXPORT, {"format": fmt, **params}))]
    with django_capture_on_commit_callbacks(execute=True):
        views.SYNC_EXPORT_ROWS, old = -1, views.SYNC_EXPORT_ROWS
        try:
            admin.post(EXPORT, {"format": fmt, **params})
        finally:
            views.SYNC_EXPORT_ROWS = old
        made = client.post(
            "/api/v1/reports/exports",
            {"format": fmt, **params},
            content_type="application/json",
            headers=headers,
        )
    assert made.status_code == 202
    for export in ReportExport.objects.order_by("pk"):
        assert (export.status, export.rows_done, export.error) == ("done", 0, "")
        files.append(body(admin.get(reverse("reports:export_file", args=[export.pk]))))
    if fmt == "csv":
        streamed = client.get("/api/v1/reports/transactions.csv", params, headers=headers)
        assert streamed.status_code == 200
        files.append(body(streamed))
    assert [rows_of(f) for f in files] == [[HEADINGS]] * len(files)
    assert [r for r in caplog.records if r.exc_info or r.levelname == "ERROR"] == []
