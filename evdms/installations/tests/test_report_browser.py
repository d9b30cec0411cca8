"""In real Chromium, on a laptop and on a phone: the Home Charger Installation Report's
filters each keep their label beside their control, however the rows wrap, and the
page passes the layout and accessibility checks."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from evdms.installations.tests.report_fixtures import Jobs, jobs_fixture  # noqa: F401
from evdms.testing.browser import both_screens, check_page, is_phone, screenshot
from evdms.testing.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def beside(page: Page, label, control, name: str) -> None:
    """The control's middle lies within the label's line: they sit side by side."""
    label_box = label.bounding_box()
    control_box = control.bounding_box()
    assert label_box and control_box, name
    middle = control_box["y"] + control_box["height"] / 2
    assert label_box["y"] < middle < label_box["y"] + label_box["height"], name


@both_screens
def test_the_installation_report_filters_keep_each_label_beside_its_control(
    jobs: Jobs, live_server, page
):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(jobs.world.nadia.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.goto(live_server.url + reverse("installations:report"))
    expect(page.get_by_role("heading", name="Home Charger Installation Report")).to_be_visible()

    for name in ("status", "installer", "connection", "customer_id", "start", "end"):
        beside(page, page.locator(f"label[for={name}]"), page.locator(f"#{name}"), name)
    # "Overdue: open and more than [14] days in one status" reads as one filter: the
    # number beside its words, and beside the check box's words or (on a phone) right
    # under them, where the next line of the sentence starts.
    overdue = page.locator("label", has=page.get_by_label("Overdue: open and more than"))
    days = page.get_by_label("days in one status")
    beside(page, days, page.get_by_text("days in one status", exact=True), "days text")
    overdue_box, days_box = overdue.bounding_box(), days.bounding_box()
    assert overdue_box and days_box
    if days_box["y"] > overdue_box["y"] + overdue_box["height"]:
        assert abs(days_box["x"] - overdue_box["x"]) < 2
        assert days_box["y"] - (overdue_box["y"] + overdue_box["height"]) < 20
    else:
        beside(page, overdue, days, "overdue_days")

    # The filters still work.
    page.get_by_label("Status", exact=True).select_option("completed")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_label("Status", exact=True)).to_have_value("completed")
    expect(page.locator("table.report tbody tr")).to_have_count(1)
    expect(page.locator("table.report tbody")).to_contain_text("Eve Electric")
    check_page(page)
    screenshot(page, "installation-report-" + ("phone" if is_phone(page) else "desktop"))
    assert page.console_errors == []
