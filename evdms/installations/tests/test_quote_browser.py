"""The approval link in a real browser: the page is sent with no-referrer, so the form
is posted with ``Origin: null``; the decision must still go through."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from evdms.installations.models import JobStatus, Quote
from evdms.installations.tests.test_quote_pages import quoted  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_declining_then_reusing_the_link_in_a_browser(quoted, live_server, page):  # noqa: F811
    job, _, url, _ = quoted
    page.goto(live_server.url + url)
    expect(page.get_by_role("heading", name="Quote for approval")).to_be_visible()
    expect(page.get_by_text("Dora Driver, Amsterdam")).to_be_visible()
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_text("Say why the quote is declined.")).to_be_visible()
    page.get_by_label("Reason (needed to decline)").fill("Groundwork is too dear")
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("heading", name="Quote declined")).to_be_visible()
    quote = Quote.objects.get()
    assert quote.status == "declined" and quote.decline_reason == "Groundwork is too dear"
    job.refresh_from_db()
    assert job.status == JobStatus.SURVEYED
    page.goto(live_server.url + url)
    expect(page.get_by_role("heading", name="This approval link was already used")).to_be_visible()
