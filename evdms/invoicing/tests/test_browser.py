"""In real Chromium: an analyst opens Invoices from the navigation, filters the
Transactions invoices, opens one and reads its sessions, VAT and payment details."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from evdms.invoicing.tests.invoice_fixtures import Invoices, invoices_fixture  # noqa: F401
from evdms.testing.browser import both_screens, check_page, main_nav_link, screenshot
from evdms.testing.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@both_screens
def test_an_analyst_reads_the_invoices(invoices: Invoices, live_server, page):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("ana@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    main_nav_link(page, "Invoices").click()
    expect(page.get_by_role("heading", name="Invoices", exact=True)).to_be_visible()
    expect(page.get_by_text("5 invoices")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text(invoices.bundle.number)
    expect(rows.first).to_contain_text("€1,815.00")
    check_page(page)
    screenshot(page, "invoices")

    page.get_by_label("Kind").select_option("transactions")
    page.get_by_label("Month").fill("2026-10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("1 invoice", exact=True)).to_be_visible()
    page.get_by_role("link", name=invoices.transactions.number).click()
    heading = f"Transactions invoice {invoices.transactions.number}"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text("15 Oct 2026 01:30 · Fastned Amsterdam Zuid")).to_be_visible()
    expect(page.get_by_role("cell", name="23.456 kWh")).to_be_visible()
    expect(page.get_by_text(invoices.transactions.payment_reference)).to_be_visible()
    expect(page.get_by_role("link", name="Download PDF")).to_have_attribute(
        "href", f"/invoices/{invoices.transactions.pk}/pdf"
    )
    check_page(page)
    screenshot(page, "invoice-detail")
    assert page.console_errors == []
