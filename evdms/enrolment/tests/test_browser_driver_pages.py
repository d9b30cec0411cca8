"""In real Chromium at 1366 px and 390 px: the driver's pages changed for issue #18 —
the home price (current and upcoming, the confirmation after the warning, the form's
own address), My connections with a move and a leave, the join landing page naming the
driver's other connection, the page after sign-up — and the admins' Drivers page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor
from evdms.enrolment import services
from evdms.reimbursements.models import HomePrice
from evdms.testing.browser import screenshot
from evdms.testing.fixtures import PASSWORD, VALID_CONNECTION, make_connection, make_membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"wide": 1366, "phone": 390}
DAN_PASSWORD = "dan's long passphrase"


def log_in(browser, live_server, email: str, password: str, width: int):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="en-GB", is_mobile=width < 500
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return context, page


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.fixture
def dan(world):
    user = User.objects.create_user(
        "dan@example.com", DAN_PASSWORD, full_name="Dan Driver", email_confirmed_at=timezone.now()
    )
    home = make_connection(
        world.org_a, name="Home 2026", name_for_drivers="Voltlease", max_price_per_kwh="0.40"
    )
    old = make_membership(home, user)
    actor = Actor(organisation=world.org_a, role="network_manager", user=world.nadia.user)
    services.connection_revise_benefits(
        actor=actor,
        old=home,
        data={**VALID_CONNECTION, "name": "Home 2027", "name_for_drivers": "Voltlease"},
        membership_ids=[old.pk],
        disable_old=False,
    )
    rival = make_connection(world.org_b, name="Rival home", name_for_drivers="Rival Lease")
    services.membership_leave(driver=user, membership=make_membership(rival, user))
    today = timezone.localdate()
    HomePrice.objects.create(driver=user, price_per_kwh=Decimal("3.50"), valid_from=today)
    HomePrice.objects.create(
        driver=user, price_per_kwh=Decimal("0.45"), valid_from=today + timedelta(days=300)
    )
    return user


@pytest.mark.parametrize("size", WIDTHS)
def test_the_drivers_pages(world, dan, live_server, browser, size):
    context, page = log_in(browser, live_server, "dan@example.com", DAN_PASSWORD, WIDTHS[size])

    page.goto(live_server.url + "/my/reimbursement/home-price/")
    expect(page.get_by_text("Your current price: €3.50 per kWh")).to_be_visible()
    expect(page.get_by_text("Upcoming:")).to_be_visible()
    expect(page.get_by_label("Average home price per kWh")).to_be_focused()
    page.get_by_label("Average home price per kWh").fill("27")
    page.get_by_role("button", name="Save price").click()
    expect(page.get_by_text("unusually high")).to_be_visible()
    expect(page.get_by_label("Yes, 27.00 per kWh is right")).not_to_be_checked()
    no_sideways_scroll(page)
    screenshot(page, f"driver-home-price-confirm-{size}")
    page.reload()  # the address the form came back at is a page of its own
    expect(page.get_by_role("heading", name="Home price per kWh")).to_be_visible()
    assert page.url.endswith("/my/reimbursement/home-price/")

    page.goto(live_server.url + "/my/connections/")
    expect(page.get_by_text("Moved to Home 2027")).to_be_visible()
    expect(page.get_by_text("Left", exact=True)).to_be_visible()
    no_sideways_scroll(page)
    screenshot(page, f"driver-my-connections-{size}")

    other = make_connection(world.org_a, name="Public", name_for_drivers="Voltlease Public")
    page.goto(f"{live_server.url}/join/{other.invite_token}/")
    expect(page.get_by_text("You already have a connection with Voltlease")).to_be_visible()
    no_sideways_scroll(page)
    screenshot(page, f"driver-join-elsewhere-{size}")
    context.close()


@pytest.mark.parametrize("size", WIDTHS)
def test_the_page_after_sign_up_and_the_admins_drivers_page(world, dan, live_server, browser, size):
    context = browser.new_context(viewport={"width": WIDTHS[size], "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/signup/")
    page.get_by_label("Full name").fill("Dan Again")
    page.get_by_label("E-mail address").fill("dan@example.com")  # has an account
    page.get_by_label("Choose a password").fill("another long passphrase")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    no_sideways_scroll(page)
    screenshot(page, f"driver-signup-sent-{size}")
    context.close()

    context, page = log_in(browser, live_server, "nadia@voltlease.example", PASSWORD, WIDTHS[size])
    page.goto(live_server.url + "/drivers/")
    expect(page.get_by_text("Moved to Home 2027")).to_be_visible()
    screenshot(page, f"admin-drivers-moved-{size}")
    context.close()
