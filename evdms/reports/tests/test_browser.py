"""In real Chromium: an analyst filters the transaction report by Customer ID, exports
it, and opens the dashboard's charts."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from evdms.reports.tests.conftest import Fleet, at, on_statement
from evdms.testing.browser import both_screens, check_page, main_nav_link, screenshot
from evdms.testing.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@both_screens
def test_filter_by_customer_id_export_and_open_the_dashboard(fleet: Fleet, live_server, page):
    on_statement(fleet.session(fleet.dan, fleet.acme, at(3, month=10), 12_345), "0.31", "0.29")
    fleet.session(fleet.dan, fleet.acme, at(9, month=11), 4_000)
    fleet.session(fleet.eve, fleet.globex, at(4, month=10), 2_000)

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("ana@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    main_nav_link(page, "Transactions").click()
    expect(page.get_by_role("heading", name="Detailed transaction report")).to_be_visible()
    report = page.locator("table.report tbody")
    expect(report.locator("tr")).to_have_count(3)
    check_page(page)
    page.get_by_label("Customer ID").fill("CRM-1")
    page.get_by_role("button", name="Apply").click()
    expect(report.locator("tr")).to_have_count(2)
    expect(report).not_to_contain_text("Globex_Home")
    expect(report.locator("tr").first).to_contain_text("E-100")
    screenshot(page, "transaction-report")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("transactions-")
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8-sig"))))
    assert [r[6] for r in rows[1:]] == ["CRM-1", "CRM-1"]
    assert [r[11] for r in rows[1:]] == ["4.000", "12.345"]  # newest first, as on the page

    main_nav_link(page, "Dashboard").click()
    expect(page.get_by_role("img", name="Home charging energy per month (kWh)")).to_be_visible()
    expect(page.get_by_role("img", name="Reimbursed home charging per month (EUR)")).to_be_visible()
    page.get_by_text("The figures").first.click()
    expect(page.get_by_role("cell", name="October 2026").first).to_be_visible()
    check_page(page)  # with "The figures" open
    screenshot(page, "dashboard")
    assert page.console_errors == []
