"""In real Chromium: an admin sets up two-factor authentication from the QR page (the
code worked out from the key the page shows, as an app would), keeps the recovery
codes, and logs in again with password and code; on a laptop and on a phone, each page
passing ``check_page``."""

from __future__ import annotations

import time
from base64 import b32decode

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from evdms.testing.browser import both_screens, check_page, is_phone, screenshot
from evdms.testing.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def app_code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key typed in from the page."""
    key = b32decode(secret.replace(" ", ""))
    return f"{totp(key, drift=steps_ahead):06d}"


def log_in_with_password(page, url: str) -> None:
    page.goto(url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("nadia@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@both_screens
def test_set_up_two_factor_then_log_in_with_a_code(world, live_server, page):
    suffix = "-phone" if is_phone(page) else ""
    log_in_with_password(page, live_server.url)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("link", name="Security").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    check_page(page)
    page.get_by_label("Your password, or a code from your app").fill(PASSWORD)
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    qr = page.locator("figure.qr-code svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150  # big enough for a phone to read
    check_page(page)
    screenshot(page, "two-factor-setup" + suffix)

    secret = page.locator("code.secret").inner_text()
    set_up_step = int(time.time()) // 30
    page.get_by_label("Code from the app").fill(app_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    check_page(page)
    screenshot(page, "two-factor-recovery-codes" + suffix)
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert page.console_errors == []  # no CSP violation from the inline SVG, for one

    page.get_by_role("button", name="Log out").click()
    log_in_with_password(page, live_server.url)
    expect(page.get_by_role("heading", name="Log-in code")).to_be_visible()
    check_page(page)
    screenshot(page, "two-factor-log-in-code" + suffix)
    page.goto(live_server.url + "/dashboard/")  # nothing opens before the code
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    log_in_with_password(page, live_server.url)
    # The code used to set it up was accepted once; the app's next one logs in (the
    # step after the set-up's, or the current one if a slow machine passed it already).
    ahead = max(set_up_step + 1 - int(time.time()) // 30, 0)
    page.get_by_label("Code").fill(app_code(secret, steps_ahead=ahead))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
