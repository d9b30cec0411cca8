"""In real Chromium: a driver looks at their public charging and marks a session
personal."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from evdms.public_charging.tests.sessions_fixtures import PublicWorld, at, make_public_world
from evdms.testing.browser import screenshot
from evdms.testing.fixtures import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def public_world(world: World) -> PublicWorld:
    return make_public_world(world)


def test_a_driver_marks_a_public_session_personal(public_world: PublicWorld, live_server, page):
    public_world.public(public_world.dan, at(3, hour=9), location="Utrecht Centraal P+R")
    public_world.public(public_world.dan, at(12, hour=18), location="Amsterdam Zuidas Garage")

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("dan@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Public charging").click()
    expect(page.get_by_role("heading", name="My public charging")).to_be_visible()
    row = page.locator("tr", has_text="Amsterdam Zuidas Garage")
    expect(row).to_contain_text("Demo CPO")
    expect(row).to_contain_text("€7.35")
    expect(row.get_by_label("Business")).to_be_checked()
    row.get_by_label("Personal").check()
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The session is marked personal.")).to_be_visible()
    row = page.locator("tr", has_text="Amsterdam Zuidas Garage")
    expect(row.get_by_label("Personal")).to_be_checked()
    expect(row).to_contain_text("To be settled by you")
    expect(page.locator("tr", has_text="Utrecht Centraal P+R")).not_to_contain_text(
        "To be settled by you"
    )
    screenshot(page, "my-public-charging")
    assert page.console_errors == []
