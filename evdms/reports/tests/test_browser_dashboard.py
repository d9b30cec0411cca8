"""In real Chromium, at a laptop's width and a phone's: the dashboard's home and public
figures per month, without the page scrolling sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from evdms.reports.tests.conftest import Fleet, at, on_statement
from evdms.reports.tests.test_public_rows import _members_since_long_ago, public
from evdms.testing.browser import screenshot
from evdms.testing.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 390])
def test_the_dashboard_shows_home_and_public_per_month_at_any_width(
    fleet: Fleet, live_server, page, width
):
    _members_since_long_ago(fleet)
    on_statement(fleet.session(fleet.dan, fleet.acme, at(3, month=10), 12_345), "0.31", "0.29")
    fleet.session(fleet.eve, fleet.globex, at(4, month=11), 2_000)
    public(fleet, fleet.dan_membership, at(5, month=10), 22_222, cost="9.8765")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("ana@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    section = page.get_by_role("region", name="Home and public charging per month")
    october = section.get_by_role("row").filter(has_text="October 2026")
    expect(october).to_contain_text("12.345")
    expect(october).to_contain_text("22.222")
    expect(october).to_contain_text("9.88")
    # Wide tables scroll inside their own frame; the page itself never sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"dashboard-{width}")
    assert page.console_errors == []
