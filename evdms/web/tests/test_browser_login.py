"""In real Chromium: log in, see the dashboard, log out; lockout after failed tries. The
log-in pages pass ``check_page`` on a laptop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from evdms.testing.browser import both_screens, check_page, is_phone, main_nav_link, screenshot
from evdms.testing.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@both_screens
def test_log_in_see_the_dashboard_and_log_out(world, live_server, page):
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    check_page(page)
    if is_phone(page):
        screenshot(page, "log-in-phone")
    page.get_by_label("E-mail address").fill("nadia@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Voltlease").first).to_be_visible()
    check_page(page)
    for name in ("Admins", "Settings", "Invoices"):
        expect(main_nav_link(page, name)).to_be_visible()
    check_page(page)  # with the menu open on a phone
    screenshot(page, "dashboard-phone" if is_phone(page) else "dashboard")
    assert page.console_errors == []  # e.g. no CSP violation from our own pages
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.goto(live_server.url + "/dashboard/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_an_analyst_sees_only_what_the_role_allows(world, live_server, page):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("ana@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(nav.get_by_role("link", name="Admins")).to_have_count(0)


@both_screens
def test_repeated_wrong_passwords_lock_the_account(world, live_server, page, settings):
    page.goto(live_server.url + "/accounts/login/")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        page.get_by_label("E-mail address").fill("otto@voltlease.example")
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text("do not match an account")).to_be_visible()
        if not attempt:
            check_page(page)  # the form with its error
    page.get_by_label("E-mail address").fill("otto@voltlease.example")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Account temporarily locked")).to_be_visible()
    expect(page.get_by_text("locked for 15 minutes")).to_be_visible()
    check_page(page)
