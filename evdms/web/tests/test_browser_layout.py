"""In real Chromium, on the demo's data, on a laptop (1366 px) and on a phone (390 px):
each main page an admin, an installer and a driver open fits the screen (a wide table
scrolls inside its own box), no table cell breaks a word ("Enab led"), and axe-core
finds no serious or critical WCAG 2.2 A/AA violation.

One test seeds the demo once and walks both screens: the demo takes longer to load than
the pages take to check."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from evdms.accounts.demo import DEMO_PASSWORD
from evdms.enrolment.models import Membership
from evdms.installations.demo import installation_driver_email
from evdms.notifications.models import OutboundEmail
from evdms.testing.browser import ARTIFACTS, SCREENS, check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN_PAGES = [
    ("/dashboard/", "Dashboard"),
    ("/connections/", "Connections"),
    ("/connections/new/", "New Connection"),
    ("/drivers/", "Drivers"),
    ("/requests/", "Connection Requests"),
    ("/reports/transactions/", "Detailed transaction report"),
    ("/installations/", "Home Charger Installation Report"),
    ("/invoices/", "Invoices"),
    ("/statements/", "Statements"),
    ("/chargers/", "Home chargers"),
    ("/home-charging/", "Home charging"),
    ("/accounts/grants/", "Grant Rights"),
    ("/accounts/admins/", None),
    ("/accounts/settings/", None),
    ("/dev/outbox/", None),
]
DRIVER_PAGES = ["/my/connections/", "/my/charging/", "/my/reimbursement/", "/my/installation/"]
INSTALLER_PAGES = ["/installer/", "/installer/jobs/"]


def _log_in(page, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


def _visit(page, url: str, heading: str | None = None) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    if heading:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    check_page(page)


def _walk(browser, base: str, screen: str) -> None:
    context = browser.new_context(**SCREENS[screen], locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _log_in(page, base, "manager@voltlease.example")
        for path, heading in ADMIN_PAGES:
            _visit(page, base + path, heading)
        # A connection's own page and a driver's record, from their lists.
        page.goto(base + "/connections/")
        page.get_by_role("link", name="Voltlease_Home Direct").click()
        check_page(page)
        page.goto(base + "/drivers/")
        page.locator("main table tbody a").first.click()
        check_page(page)
        page.goto(base + "/installations/")
        page.locator("main table tbody a").first.click()
        check_page(page)
        # An e-mail in the development outbox, with its HTML version.
        email = OutboundEmail.objects.exclude(html_body="").order_by("-pk").first()
        assert email is not None
        _visit(page, f"{base}/dev/outbox/{email.pk}/")
        context.clear_cookies()

        driver = (
            Membership.objects.filter(status="connected", connection__reimburse_home_charging=True)
            .order_by("driver__email")
            .values_list("driver__email", flat=True)
            .first()
        )
        assert driver is not None
        _log_in(page, base, driver)
        for path in DRIVER_PAGES[:-1]:
            _visit(page, base + path)
        context.clear_cookies()
        _log_in(page, base, installation_driver_email(0))
        _visit(page, base + DRIVER_PAGES[-1])
        context.clear_cookies()

        _log_in(page, base, "manager@brightspark.example")
        for path in INSTALLER_PAGES:
            _visit(page, base + path)
        page.locator("main table tbody a").first.click()
        check_page(page)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", page.url)[-80:]
        page.screenshot(path=str(ARTIFACTS / f"layout-{screen}-{name}.png"), full_page=True)
        raise
    finally:
        context.close()


def test_main_pages_fit_keep_words_whole_and_pass_axe_on_both_screens(live_server, browser):
    call_command("seed_demo")
    for screen in SCREENS:
        _walk(browser, live_server.url, screen)
