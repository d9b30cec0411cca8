"""In real Chromium: Acme's Network Manager grants Voltlease rights on one connection;
Voltlease's Network Manager sees exactly that connection's drivers and transactions and
can invite to it, not to another; Acme revokes, and the next page Voltlease opens is a
404."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from evdms.accounts.models import OrganisationKind, User
from evdms.testing.browser import check_page, screenshot
from evdms.testing.fixtures import (
    PASSWORD,
    make_admin,
    make_connection,
    make_home_session,
    make_membership,
    make_organisation,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, url: str, email: str) -> None:
    page.goto(url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def _driver_with_a_session(connection, email: str, name: str, wh: int) -> User:
    driver = User.objects.create_user(email, "a driver's passphrase 1", full_name=name)
    make_membership(connection, driver)
    make_home_session(connection, driver, wh, hours_ago=24)
    return driver


def test_a_grant_on_one_connection_shows_exactly_it_until_it_is_revoked(
    world, live_server, page, browser
):
    acme = make_organisation("acme", "Acme Logistics", OrganisationKind.CUSTOMER)
    make_admin(acme, "alice@acme.example", full_name="Alice Acme")
    fleet = make_connection(acme, name="Acme Fleet", home_charging_data_sharing="yes")
    office = make_connection(acme, name="Acme Office", home_charging_data_sharing="yes")
    _driver_with_a_session(fleet, "fiona@example.com", "Fiona Fleet", 12_345)
    _driver_with_a_session(office, "oscar@example.com", "Oscar Office", 6_789)
    url = live_server.url

    # Alice, in her own browser, grants Voltlease two rights on Acme Fleet only.
    alice_context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    alice = alice_context.new_page()
    alice.set_default_timeout(15_000)
    try:
        _log_in(alice, url, "alice@acme.example")
        alice.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Grant Rights"
        ).click()
        expect(alice.get_by_role("heading", name="Grant Rights", exact=True)).to_be_visible()
        alice.get_by_label("Organisation ID or name").fill(world.org_a.public_id)
        alice.get_by_label("Invite and approve drivers").check()
        alice.get_by_label("View transactions").check()
        alice.get_by_label("Chosen connections", exact=True).check()
        alice.get_by_label("Acme Fleet").check()
        alice.get_by_label("Description").fill("Voltlease runs our fleet programme.")
        alice.get_by_role("button", name="Grant rights").click()
        given = alice.get_by_role("region", name="Rights you have given")
        expect(given).to_contain_text("Voltlease")
        expect(given).to_contain_text("Acme Fleet")
        expect(given).not_to_contain_text("Acme Office")
        check_page(alice)
        screenshot(alice, "grant-rights-given")

        # Nadia (Voltlease) sees Fiona of Acme Fleet, never Oscar of Acme Office.
        _log_in(page, url, "nadia@voltlease.example")
        nav = page.get_by_role("navigation", name="Main")
        nav.get_by_role("link", name="Drivers").click()
        drivers = page.locator("main")
        expect(drivers).to_contain_text("fiona@example.com")
        expect(drivers).not_to_contain_text("oscar@example.com")
        check_page(page)
        nav.get_by_role("link", name="Transactions").click()
        report = page.locator("table.report tbody")
        expect(report).to_contain_text("Acme Fleet")
        expect(report).not_to_contain_text("Acme Office")
        screenshot(page, "grantee-transactions")

        # She may invite to Acme Fleet; Acme Office does not exist for her.
        page.goto(f"{url}/connections/{fleet.pk}/")
        expect(page.get_by_role("heading", name="Acme Fleet")).to_be_visible()
        page.get_by_role("link", name="Invite drivers").click()
        expect(page.get_by_role("heading", name="Invite drivers")).to_be_visible()
        office_invite = page.goto(f"{url}/connections/{office.pk}/invite/")
        assert office_invite is not None and office_invite.status == 404
        office_page = page.goto(f"{url}/connections/{office.pk}/")
        assert office_page is not None and office_page.status == 404

        # Alice revokes; the very next page Nadia opens for Acme Fleet is a 404.
        page.goto(f"{url}/connections/{fleet.pk}/")
        expect(page.get_by_role("heading", name="Acme Fleet")).to_be_visible()
        alice.once("dialog", lambda dialog: dialog.accept())
        given.get_by_role("button", name="Revoke").click()
        expect(alice.get_by_role("region", name="Rights you have given")).to_contain_text(
            "You have not granted rights"
        )
        again = page.goto(f"{url}/connections/{fleet.pk}/")
        assert again is not None and again.status == 404
        nav = page.get_by_role("navigation", name="Main")
        nav.get_by_role("link", name="Drivers").click()
        expect(page.locator("main")).not_to_contain_text("fiona@example.com")
        screenshot(page, "grantee-after-revoke")
        # Only the three 404s this test asked for.
        assert [e for e in page.console_errors if "status of 404" not in e] == []
        assert len(page.console_errors) == 3
    except Exception:
        screenshot(alice, "grant-rights-alice-failed")
        raise
    finally:
        alice_context.close()
