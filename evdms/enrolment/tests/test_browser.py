"""In real Chromium, on a phone-sized screen: a driver opens the invite link, signs up,
confirms the address, logs in, answers the questions, agrees to the terms and asks to join; an
admin approves on the Connection Requests page; the driver sees the connection."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from evdms.enrolment.models import Membership
from evdms.notifications.models import OutboundEmail
from evdms.testing.browser import DESKTOP, PHONE, check_page, screenshot
from evdms.testing.fixtures import PASSWORD, make_connection

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_driver_joins_and_an_admin_approves(world, live_server, browser):
    connection = make_connection(
        world.org_a,
        verification_1_label="Employee ID",
        custom_terms_enabled="yes",
        terms_text="1. Charge responsibly.",
    )
    phone = browser.new_context(**PHONE)
    page = phone.new_page()
    page.goto(f"{live_server.url}/join/{connection.invite_token}/")
    expect(page.get_by_role("heading", name="Voltlease Drivers")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Ask to join").click()
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Full name").fill("Dana Driver")
    page.get_by_label("E-mail address").fill("dana@example.com")
    page.get_by_label("Choose a password").fill("dana's long passphrase")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    screenshot(page, "driver-signup-sent-mobile")

    body = OutboundEmail.objects.get(template="driver_confirm_email").text_body
    link = re.search(r"http://127\.0\.0\.1:8000(/confirm/\S+)", body)
    assert link is not None
    page.goto(live_server.url + link.group(1))
    expect(page.get_by_text("your e-mail address is confirmed")).to_be_visible()
    page.get_by_label("E-mail address").fill("dana@example.com")
    page.get_by_label("Password").fill("dana's long passphrase")
    page.get_by_role("button", name="Log in").click()

    page.get_by_label("Employee ID").fill("E-4242")
    page.get_by_label("Phone number").fill("+31 6 1234 5678")
    page.get_by_label("Installation address").fill("Laan 1")
    page.get_by_label("Postcode").fill("3511 AB")
    page.get_by_label("Town or city").fill("Utrecht")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_text("Tick the box to agree")).to_be_visible()
    expect(page.get_by_label("Employee ID")).to_have_value("E-4242")  # nothing typed is lost
    check_page(page)  # with the error shown
    page.get_by_label("I have read and agree").check()
    screenshot(page, "driver-join-request-mobile")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", name="My connections")).to_be_visible()
    expect(page.get_by_text("Pending")).to_be_visible()
    check_page(page)
    phone.close()

    admin = browser.new_context(**DESKTOP)
    page = admin.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("otto@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name=re.compile("Connection Requests 1"))).to_be_visible()
    nav.get_by_role("link", name=re.compile("Connection Requests")).click()
    expect(page.get_by_text("E-4242")).to_be_visible()
    check_page(page)
    screenshot(page, "connection-requests")
    page.get_by_role("table").get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_text("1 request approved.")).to_be_visible()
    admin.close()
    assert Membership.objects.get().status == "connected"
