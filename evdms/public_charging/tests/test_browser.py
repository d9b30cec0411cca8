"""In real Chromium, on a laptop and on a phone: the public charging pages pass the
layout and accessibility checks and show what they are for. A driver of a connection
that pays for public charging sees their app token (by its contract id) and a charging
card on My charging tokens, and their sessions (where, how much) on My public charging;
an analyst sees the organisation's public sessions in the transaction report filtered
to Public, without the place or price of a personal one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from evdms.charging.models import ChargingSession
from evdms.enrolment.models import Membership
from evdms.public_charging.models import Token, TokenType
from evdms.public_charging.services import tokens
from evdms.public_charging.tests.sessions_fixtures import PublicWorld, at, make_public_world
from evdms.testing.browser import both_screens, check_page, is_phone, main_nav_link, screenshot
from evdms.testing.fixtures import PASSWORD, World

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def public_world(world: World) -> PublicWorld:
    """Dan (of Acme_Public, which pays) with his app token, a card, and three sessions:
    two business, one personal; Rob (of Rival Lease) with one Voltlease must not see."""
    public = make_public_world(world)
    membership = Membership.objects.get(driver=public.dan)
    tokens.app_token_ensure(membership)
    tokens.card_issue(
        actor=world.actor(world.otto),
        membership=membership,
        uid="04A1B2C3D4",
        visual_number="VL-0042",
    )
    public.public(public.dan, at(3, hour=9), location="Utrecht Centraal P+R", cost="4.1000")
    public.public(public.dan, at(12, hour=18), location="Amsterdam Zuidas Garage")
    personal = public.public(public.dan, at(14, hour=8), wh=3_333, location="Hidden Lane 3")
    ChargingSession.objects.filter(pk=personal.pk).update(purpose="personal")
    public.public(public.rob, at(5), location="Rival Plaza", cost="9.9900")
    return public


# On how many lines the text ``id`` lies inside the element (-1: not in it).
LINES_OF = """(element, id) => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(id);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + id.length);
    const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
    return new Set(rects.map((r) => Math.round(r.top))).size;
  }
  return -1;
}"""


# The text a cell shows before its content (a stacked table's column name), if any.
SHOWN_BEFORE = """(cell) => {
  const before = getComputedStyle(cell, "::before");
  return before.display === "none" ? "" : cell.getAttribute("data-label") || "";
}"""


def log_in(page, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@both_screens
def test_a_driver_sees_their_tokens_and_public_sessions(
    public_world: PublicWorld, live_server, page
):
    app = Token.objects.get(driver=public_world.dan, type=TokenType.APP_USER)
    log_in(page, live_server.url, "dan@example.com")
    page.get_by_role("link", name="My charging tokens").click()
    expect(page.get_by_role("heading", name="My charging tokens")).to_be_visible()
    app_card = page.locator(".card", has=page.get_by_role("heading", name=app.contract_id))
    expect(app_card).to_contain_text("Valid")
    expect(app_card).to_contain_text(f"Voltlease · contract {app.contract_id}")
    card = page.locator(".card", has=page.get_by_role("heading", name="VL-0042"))
    expect(card).to_contain_text("Valid")
    expect(card.get_by_role("link", name="Report lost")).to_be_visible()
    # The contract id is kept on one line (not split at its hyphens on a phone).
    lines = app_card.locator("p", has_text="contract").evaluate(LINES_OF, app.contract_id)
    assert lines == 1
    check_page(page)
    if is_phone(page):
        screenshot(page, "my-charging-tokens-phone")

    page.get_by_role("link", name="Public charging").click()
    expect(page.get_by_role("heading", name="My public charging")).to_be_visible()
    row = page.locator("tr", has_text="Amsterdam Zuidas Garage")
    expect(row).to_contain_text("Stationsplein 1, 1012 AB Amsterdam, NLD")
    expect(row).to_contain_text("Demo CPO")
    expect(row).to_contain_text("12.345")
    expect(row).to_contain_text("€7.35")
    expect(row.get_by_label("Business")).to_be_checked()
    expect(page.locator("tr", has_text="Utrecht Centraal P+R")).to_contain_text("€4.10")
    personal = page.locator("tr", has_text="Hidden Lane 3")
    expect(personal.get_by_label("Personal")).to_be_checked()
    expect(personal).to_contain_text("To be settled by you")
    expect(page.get_by_text("Rival Plaza")).to_have_count(0)
    # Every column, Purpose too, is on screen without scrolling sideways: on a phone each
    # session is a card, each value under its column's name.
    width = page.viewport_size["width"]
    for purpose in (row.get_by_label("Business"), personal.get_by_label("Personal")):
        box = purpose.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    save = row.get_by_role("button", name="Save").bounding_box()
    assert save and save["x"] + save["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator(".table-wrap").evaluate_all(
        "wraps => wraps.every((w) => w.scrollWidth <= w.clientWidth)"
    )
    if is_phone(page):
        cell = row.locator("td", has=page.get_by_label("Business"))
        assert cell.evaluate(SHOWN_BEFORE) == "Purpose"
        assert row.locator("td").first.evaluate(SHOWN_BEFORE) == "Date/time"
    check_page(page)
    if is_phone(page):
        screenshot(page, "my-public-charging-phone")
    else:
        screenshot(page, "my-public-charging-desktop")
    assert page.console_errors == []


@both_screens
def test_an_analyst_sees_the_public_sessions_in_the_transaction_report(
    public_world: PublicWorld, live_server, page
):
    log_in(page, live_server.url, "ana@voltlease.example")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    main_nav_link(page, "Transactions").click()
    expect(page.get_by_role("heading", name="Detailed transaction report")).to_be_visible()
    page.get_by_label("Type").select_option("public")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_label("Type")).to_have_value("public")
    report = page.locator("table.report tbody")
    expect(report.locator("tr")).to_have_count(3)  # Dan's three; never Rob's
    business = report.locator("tr", has_text="Amsterdam Zuidas Garage")
    expect(business).to_contain_text("Dan Driver")
    expect(business).to_contain_text("Public")
    expect(business).to_contain_text("Demo CPO")
    expect(business).to_contain_text("7.35")
    expect(business).to_contain_text("Business")
    expect(report.locator("tr", has_text="Utrecht Centraal P+R")).to_contain_text("4.10")
    # A personal session: that it happened and its energy, not where or at what price.
    personal = report.locator("tr", has_text="Personal")
    expect(personal).to_contain_text("3.333")
    expect(personal).to_contain_text("Dan Driver")
    expect(page.get_by_text("Hidden Lane 3")).to_have_count(0)
    expect(page.get_by_text("Rival Plaza")).to_have_count(0)
    # Each filter's label stays beside its control, however the row wraps.
    for name in ("customer_id", "connection", "driver", "start", "end", "type"):
        label = page.locator(f"label[for={name}]").bounding_box()
        control = page.locator(f"#{name}").bounding_box()
        assert label and control
        middle = control["y"] + control["height"] / 2
        assert label["y"] < middle < label["y"] + label["height"], name
    check_page(page)
    if is_phone(page):
        screenshot(page, "transactions-public-phone")
    assert page.console_errors == []


@both_screens
def test_an_officer_sees_the_drivers_tokens(public_world: PublicWorld, live_server, page):
    app = Token.objects.get(driver=public_world.dan, type=TokenType.APP_USER)
    log_in(page, live_server.url, "otto@voltlease.example")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    main_nav_link(page, "Charging tokens").click()
    expect(page.get_by_role("heading", name="Charging tokens")).to_be_visible()
    card = page.get_by_role("row").filter(has_text="VL-0042")
    expect(card).to_contain_text("Dan Driver")
    expect(card).to_contain_text("uid 04A1B2C3D4")
    expect(card).to_contain_text("Valid")
    expect(card.get_by_role("button", name="Block card VL-0042")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=app.contract_id)).to_contain_text("App")
    check_page(page)
    if is_phone(page):
        screenshot(page, "charging-tokens-phone")
