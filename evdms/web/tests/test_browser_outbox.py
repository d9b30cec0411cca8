"""In real Chromium, on a phone: the development outbox shows an e-mail as it was sent,
its inline styles applied, and a long line of its text wraps instead of widening the
page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from evdms.notifications.models import OutboundEmail
from evdms.testing.browser import PHONE, both_screens, check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_LINK = "http://127.0.0.1:8000/set-up/" + "a1b2c3d4" * 24


@both_screens
def test_an_email_in_the_outbox_keeps_its_styles_and_fits_the_screen(live_server, page):
    email = OutboundEmail.objects.create(
        to=["driver04@example.com"],
        subject="Your set-up link",
        text_body=f"Open this link to set up your account:\n{LONG_LINK}\n",
        html_body=(
            '<p style="color: rgb(180, 35, 24); font-weight: 700">Set up your account</p>'
            f'<p><a href="{LONG_LINK}">Set up</a></p>'
        ),
        template="admin_invitation",
    )
    page.goto(f"{live_server.url}/dev/outbox/")
    expect(page.get_by_role("cell", name="driver04@example.com")).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Your set-up link").click()
    expect(page.get_by_role("heading", name="Your set-up link")).to_be_visible()
    mail = page.frame_locator("iframe.mail").get_by_text("Set up your account")
    expect(mail).to_have_css("color", "rgb(180, 35, 24)")
    expect(mail).to_have_css("font-weight", "700")
    expect(page.get_by_text(LONG_LINK[:40])).to_be_visible()
    check_page(page)  # the long line wraps inside the page
    if page.viewport_size == PHONE["viewport"]:
        box = page.locator("main pre").bounding_box()
        assert box is not None and box["width"] <= PHONE["viewport"]["width"]
    assert page.console_errors == [], email.pk
