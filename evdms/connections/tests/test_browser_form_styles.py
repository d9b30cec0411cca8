"""In real Chromium, at a laptop's and a phone's width: the connection forms and the
driver's join form look as they behave — an error's field has a red border whatever its
kind, a button that cannot be pressed looks so, a date has room for its date."""

from __future__ import annotations

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from evdms.accounts.models import User
from evdms.connections.models import Connection
from evdms.connections.tests.test_browser import field, log_in
from evdms.reimbursements.tests.conftest import reimbursed_driver
from evdms.testing.browser import screenshot
from evdms.testing.fixtures import PASSWORD, make_connection, make_membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DANGER = "rgb(180, 35, 24)"  # --danger in app.css
WIDTHS = {"laptop": 1366, "phone": 390}


def both_widths(page, name: str) -> None:
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"{name}-{label}")
    page.set_viewport_size({"width": 1366, "height": 900})


def test_fields_with_errors_have_red_borders_and_the_form_is_in_sections(
    world, live_server, page, tmp_path
):
    log_in(page, live_server, "nadia@voltlease.example")
    page.goto(live_server.url + "/connections/new/")
    for legend in ("Organisation", "Home charger", "Approval and notifications"):
        expect(page.locator("legend", has_text=legend)).to_be_visible()
    both_widths(page, "connection-new")
    logo = tmp_path / "logo.png"
    Image.new("RGB", (60, 30), (0, 90, 50)).save(logo)
    field(page, "Connection Logo").set_input_files(str(logo))
    field(page, "Connection Name").fill("Voltlease_Home")
    field(page, "Organisation Name for Drivers").fill("")
    field(page, "Customer Support Email").fill("not an address")
    field(page, "Approval type").select_option("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Please correct the fields marked below.")).to_be_visible()
    for label in ("Organisation Name for Drivers", "Customer Support Email", "Approval type"):
        control = field(page, label)
        assert control.evaluate("e => getComputedStyle(e).borderTopColor") == DANGER, label
    # A field without an error keeps its grey border.
    customer = field(page, "Customer ID")
    assert customer.evaluate("e => getComputedStyle(e).borderTopColor") != DANGER
    both_widths(page, "connection-new-errors")

    # The logo chosen before is shown back, kept, and saved once the errors are put right.
    kept = page.get_by_role("img", name="The logo you chose")
    expect(kept).to_be_visible()
    assert kept.evaluate("e => e.complete && e.naturalWidth") == 60
    expect(page.get_by_label("Keep this logo")).to_be_checked()
    field(page, "Organisation Name for Drivers").fill("Voltlease Drivers")
    field(page, "Customer Support Email").fill("support@voltlease.example")
    field(page, "Approval type").select_option("manual")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Voltlease_Home")).to_be_visible()
    assert Connection.objects.get(name="Voltlease_Home").has_logo
    # Only the 422 of the round with errors; nothing refused (the CSP allows data: images).
    assert [e for e in page.console_errors if "422" not in e] == []


def test_edit_and_revise_pages(world, live_server, page):
    connection = make_connection(world.org_a, max_price_per_kwh="0.32")
    make_membership(
        connection, User.objects.create_user("dora@example.com", PASSWORD, full_name="Dora")
    )
    log_in(page, live_server, "nadia@voltlease.example")
    page.goto(live_server.url + f"/connections/{connection.pk}/edit/")
    page.get_by_role("note").get_by_role("link", name="Revise Benefits").click()
    expect(page.get_by_role("heading", name="Revise Benefits")).to_be_visible()
    expect(field(page, "Max Price For Reimbursement (EUR per kWh)")).to_have_value("0.32")
    both_widths(page, "connection-revise")
    page.goto(live_server.url + f"/connections/{connection.pk}/edit/")
    both_widths(page, "connection-edit")


def test_a_disabled_send_button_looks_disabled(world, live_server, page):
    connection = make_connection(world.org_a, verification_1_label="Employee ID")
    User.objects.create_user("dan@example.com", PASSWORD, full_name="Dan Driver")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("dan@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + f"/join/{connection.invite_token}/request/")
    send = page.get_by_role("button", name="Send my request")
    expect(send).to_be_disabled()
    resend = page.get_by_role("button", name="Send the link again")
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).cursor]"
    disabled_bg, cursor = send.evaluate(style)
    assert disabled_bg != "rgb(11, 93, 59)"  # not the brand green of a button one can press
    assert cursor == "not-allowed"
    assert resend.is_enabled()
    both_widths(page, "join-request-unconfirmed")

    User.objects.filter(email="dan@example.com").update(email_confirmed_at=timezone.now())
    page.reload()
    send = page.get_by_role("button", name="Send my request")
    assert send.evaluate(style)[0] == "rgb(11, 93, 59)"
    expect(page.get_by_label("Country")).to_be_visible()
    both_widths(page, "join-request")


def test_the_applies_from_date_has_room_for_a_date(world, live_server, page):
    connection = make_connection(world.org_a)
    reimbursed_driver(world, connection)
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("dan@example.com")
    page.get_by_label("Password").fill("dan's long passphrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/my/reimbursement/")
    date = page.get_by_label("Applies from")
    box = date.bounding_box()
    assert box is not None and box["width"] >= 200
    both_widths(page, "my-reimbursement")
