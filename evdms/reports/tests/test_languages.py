"""Issue #19: a Dutch admin's transaction report page is Dutch; its files stay English."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evdms.reports.tests.conftest import Fleet, at, on_statement
from evdms.reports.tests.test_exports import body
from evdms.reports.tests.test_transactions import rows_of
from evdms.testing.languages import admin_speaking

pytestmark = pytest.mark.django_db
URL = reverse("reports:transactions")


def test_a_dutch_admins_transaction_report_is_dutch_and_its_csv_english(fleet: Fleet):
    session = fleet.session(fleet.dan, fleet.acme, at(3, hour=21, minute=5), 1_234_567)
    on_statement(session, driver_price="0.3100", cap="0.2900")
    client = admin_speaking(fleet.world.ana, "nl")
    response = client.get(URL, {"sort": "nonsense"}, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response["Content-Language"] == "nl"
    for dutch in [
        "Gedetailleerd transactierapport",
        "Klant-ID",
        "Laadregeling",
        "Toepassen",
        "1 transactie",
        "CSV exporteren",
        "Datum/tijd",
        "Kosten incl. btw",
        'title="Alleen publieke laadsessies"',
        "Kan niet sorteren op “nonsense”",
        "Tijden in",
    ]:
        assert dutch in html, dutch
    for english in [
        "Detailed transaction report",
        "Customer ID",
        "Apply",
        "Export CSV",
        "Date/time",
        "Cost incl. VAT",
        "Public sessions only",
        "Cannot sort",
        "Times in",
    ]:
        assert english not in html, english
    [row] = rows_of(html)
    assert row[0] == "3 okt 2026 21:05"  # the Dutch format: months in lower case
    assert row[7] == "Thuis"  # the type, in Dutch
    assert row[10] == "1.234,567"  # kWh, grouped the Dutch way
    assert row[12] == "382,72"  # 1,234.567 kWh × 0.31, to the cent

    export = client.post(reverse("reports:transactions_export"), {"format": "csv"})
    header, first = body(export).decode("utf-8-sig").splitlines()[:2]
    assert header.startswith("Date/time,Driver,Driver e-mail,") and "Cost incl. VAT" in header
    assert ",Home," in first and "Thuis" not in first
