"""In real Chromium: an admin finds Charging tokens in the navigation, issues a card
(first with a wrong uid, which is refused next to the field, nothing typed lost), sees
it valid, blocks it after confirming; the driver sees it blocked on My charging tokens."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from evdms.public_charging.models import Token, TokenType
from evdms.public_charging.tests.test_tokens import connected, paying_connection, person
from evdms.testing.browser import screenshot
from evdms.testing.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_admin_issues_and_blocks_a_card_and_the_driver_sees_it(world, live_server, browser):
    dan = person("dan@example.com", "Dan Driver")
    connected(world, paying_connection(world.org_a), dan)
    admin = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    page = admin.new_page()
    _log_in(page, live_server.url, "otto@voltlease.example", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Charging tokens").click()
    expect(page.get_by_role("heading", name="Charging tokens")).to_be_visible()
    expect(page.get_by_text("Dan Driver")).to_be_visible()
    page.get_by_role("link", name="Issue a card").click()
    page.get_by_label("Driver's e-mail address").fill("dan@example.com")
    page.get_by_label("Card uid").fill("04:A1:ZZ")
    page.get_by_label("Number printed on the card").fill("VL-0042")
    page.get_by_role("button", name="Issue the card").click()
    expect(page.get_by_text("4 to 36 hexadecimal characters (0–9, A–F).")).to_be_visible()
    expect(page.get_by_label("Number printed on the card")).to_have_value("VL-0042")
    screenshot(page, "charging-tokens-issue-error")
    page.get_by_label("Card uid").fill("04:A1:B2:C3:D4")
    page.get_by_role("button", name="Issue the card").click()
    expect(page.get_by_text("Card VL-0042 issued to dan@example.com.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("VL-0042"))
    expect(row.get_by_text("Valid", exact=True)).to_be_visible()
    screenshot(page, "charging-tokens-list")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Block card VL-0042").click()
    expect(page.get_by_text("Card VL-0042 is blocked.")).to_be_visible()
    expect(
        page.get_by_role("row", name=re.compile("VL-0042")).get_by_text("Blocked")
    ).to_be_visible()
    admin.close()
    card = Token.objects.get(type=TokenType.RFID)
    assert (card.uid, card.blocked, card.valid) == ("04A1B2C3D4", "blocked", False)

    driver = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = driver.new_page()
    _log_in(page, live_server.url, "dan@example.com", "a long driver passphrase")
    page.get_by_role("link", name="My charging tokens").click()
    expect(page.get_by_role("heading", name="My charging tokens")).to_be_visible()
    expect(page.get_by_text("Blocked", exact=True)).to_be_visible()
    expect(page.get_by_text("Valid", exact=True)).to_be_visible()  # the app token
    screenshot(page, "my-charging-tokens-mobile")
    driver.close()
