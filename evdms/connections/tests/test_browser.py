"""In real Chromium: a new admin creates a connection, watching dependent fields appear
and disappear as they answer, then edits it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from evdms.connections.models import Connection
from evdms.testing.browser import both_screens, check_page, main_nav_link, screenshot
from evdms.testing.fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def field(page, label: str):
    """The input labelled exactly ``label`` (mandatory ones also say "(required)")."""
    return page.get_by_label(re.compile("^" + re.escape(label) + r"\s*\*?\s*(\(required\))?$"))


def log_in(page, live_server, email):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


@both_screens
def test_create_a_connection_toggling_dependent_fields_then_edit_it(world, live_server, page):
    log_in(page, live_server, "otto@voltlease.example")
    main_nav_link(page, "Connections").click()
    expect(page.get_by_role("heading", name="Connections")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="New Connection").click()
    expect(page.get_by_role("heading", name="New Connection")).to_be_visible()
    check_page(page)

    warranty = field(page, "Home warranty and labour")
    payment_model = field(page, "Installation Payment Model")
    reimburse = field(page, "Reimburse Home Charging")
    max_price = field(page, "Max Price For Reimbursement (EUR per kWh)")
    # No home charger: everything about it is hidden.
    for hidden in (warranty, payment_model, reimburse, max_price):
        expect(hidden).to_be_hidden()

    field(page, "Organisation Name for Drivers").fill("Voltlease Drivers")
    field(page, "Connection Name").fill("Voltlease_Home")
    field(page, "Customer Support Email").fill("support@voltlease.example")

    field(page, "Provide Home Charger").select_option("yes")
    expect(warranty).to_be_visible()
    expect(reimburse).to_be_visible()
    expect(payment_model).to_be_hidden()  # not handled by a certified installer yet
    field(page, "Installation Handled By").select_option("certified_installer")
    expect(payment_model).to_be_visible()
    standard_price = field(page, "Standard installation package price (EUR, incl. VAT)")
    warranty_months = field(page, "Warranty length (months)")
    expect(standard_price).to_be_hidden()
    expect(warranty_months).to_be_hidden()  # only with Home warranty and labour
    warranty.select_option("yes")
    expect(warranty_months).to_be_visible()
    warranty.select_option("no")
    expect(warranty_months).to_be_hidden()
    payment_model.select_option("direct")
    expect(standard_price).to_be_visible()
    payment_model.select_option("budget")
    expect(standard_price).to_be_hidden()
    expect(field(page, "Installation budget (EUR)")).to_be_visible()
    field(page, "Installation budget (EUR)").fill("1500")

    reimburse.select_option("yes")
    expect(max_price).to_be_visible()
    max_price.fill("0.29")
    # Toggling back hides again, and toggling on shows the kept value.
    reimburse.select_option("no")
    expect(max_price).to_be_hidden()
    reimburse.select_option("yes")
    expect(max_price).to_have_value("0.29")

    expect(field(page, "Payment via")).to_be_hidden()
    field(page, "Pay For Public Charging").select_option("yes")
    field(page, "Payment via").select_option("direct_invoice_service")

    expect(field(page, "Request Additional Info")).to_be_hidden()
    page.get_by_role("button", name="+ Request Additional Info").click()
    field(page, "Request Additional Info").fill("Licence plate")
    field(page, "Verify drivers by").fill("Employee ID")

    field(page, "Approval type").select_option("auto")
    field(page, "Custom terms and conditions").select_option("yes")
    field(page, "Terms and Conditions").fill("I agree to charge responsibly.")

    # The help tip of a field opens with its "?" button.
    tip = page.get_by_role("button", name="More about Customer ID")
    tip.click()
    expect(page.get_by_text("The customer's number in your CRM")).to_be_visible()

    screenshot(page, "connection-form-filled")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Voltlease_Home")).to_be_visible()
    expect(page.get_by_text("Home charger (Budget Model)")).to_be_visible()
    check_page(page)
    assert page.console_errors == []

    connection = Connection.objects.get(name="Voltlease_Home")
    assert connection.installation_budget == 1500
    assert connection.verification_2_label == "Licence plate"

    page.get_by_role("link", name="Edit").click()
    field(page, "Provide Home Charger").select_option("no")
    expect(max_price).to_be_hidden()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Connection saved.")).to_be_visible()
    connection.refresh_from_db()
    # What was hidden is stored empty.
    assert connection.reimburse_home_charging is False
    assert connection.max_price_per_kwh is None
    assert connection.installation_payment_model == ""
    expect(page.get_by_text("Provide Home Charger: Yes → No")).to_be_visible()
