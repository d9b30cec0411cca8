"""In real Chromium: an analyst opens Statements, filters a month, opens a statement of a
connection that shares home charging data and sees its sessions."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from evdms.reimbursements.tests.conftest import october
from evdms.testing.browser import both_screens, check_page, main_nav_link, screenshot
from evdms.testing.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@both_screens
def test_an_analyst_reads_the_statements(world, live_server, page, make_statement):
    make_statement(
        "anna@example.com",
        total="3.13",
        sharing=True,
        sessions=[(october(3), 10_000), (october(9, hour=22), 2_500)],
    )
    make_statement("bert@example.com", total="5.00", status="paid")
    make_statement("bert@example.com", month=date(2026, 9, 1), total="4.20", status="failed")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("ana@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    main_nav_link(page, "Statements").click()
    expect(page.get_by_role("heading", name="Statements")).to_be_visible()
    expect(page.get_by_text("3 statements")).to_be_visible()
    check_page(page)
    screenshot(page, "statements")

    page.get_by_label("Month").fill("2026-10")
    page.get_by_label("Status").select_option("ready")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("1 statement", exact=True)).to_be_visible()
    page.get_by_role("link", name="ST-202610").click()
    expect(page.get_by_role("heading", name="Statement ST-202610")).to_be_visible()
    expect(page.get_by_text("12.500 kWh")).to_be_visible()
    expect(page.get_by_role("cell", name="9 Oct 2026 22:00")).to_be_visible()
    check_page(page)
    screenshot(page, "statement-detail")
    assert page.console_errors == []
