"""In real Chromium, at a laptop's width (1366 px) and a phone's (390 px): select-all on
the Drivers and Connection Requests pages by keyboard, the Chargers and Home charging
filters, breadcrumbs, and taking back "Request Additional Info"."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from evdms.accounts.models import User
from evdms.charging.models import Charger
from evdms.connections.models import Connection
from evdms.enrolment.models import Membership, MembershipStatus
from evdms.testing.browser import screenshot
from evdms.testing.fixtures import PASSWORD, make_connection, make_home_session, make_membership
from evdms.testing.installations import make_installer, make_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"laptop": (1366, 860), "phone": (390, 844)}


def log_in(browser, live_server, email, width="laptop"):
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.console_errors = errors
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return page


def person(email: str, name: str) -> User:
    return User.objects.create_user(email, "a long passphrase 1", full_name=name)


@pytest.fixture
def scene(world):
    home = make_connection(
        world.org_a,
        name="Voltlease_Home",
        home_charging_data_sharing="yes",
        verification_1_label="Employee ID",
        verification_2_label="Licence plate",
    )
    installer = make_installer()
    names = ["Alice Archer", "Bert Baker", "Cleo Cook", "Dirk de Vries-Oosterhuizen"]
    drivers = [person(f"{n.split()[0].lower()}@example.com", n) for n in names]
    done = make_job(home, drivers[0], installer.company, status="commissioned")
    done.installed_at = timezone.now()
    done.save(update_fields=["installed_at"])
    make_job(home, drivers[1], installer.company, status="scheduled")
    for d in drivers[2:]:
        make_membership(home, d)
    Membership.objects.filter(connection=home).update(verification_1="E-100")
    for i in range(3):
        make_membership(home, person(f"new{i}@example.com", f"New Driver {i}"), "pending")
    for d, wh in zip(drivers, [7250, 12000, 3100, 9800], strict=True):
        make_home_session(home, d, wh)
    Charger.objects.filter(driver=drivers[0]).update(online=True, vendor="Alfen", firmware="1.2")
    return {"home": home, "drivers": drivers}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_select_all_on_the_drivers_page_by_keyboard(scene, live_server, browser, width):
    page = log_in(browser, live_server, "nadia@voltlease.example", width)
    page.goto(live_server.url + "/drivers/")
    expect(page.get_by_role("cell", name="Job in progress")).to_be_visible()
    all_box = page.get_by_label("Select every connected driver on this page")
    expect(all_box).to_be_visible()
    all_box.focus()
    page.keyboard.press("Space")
    rows = page.locator('tbody input[name="ids"]')
    assert rows.count() == 4
    for i in range(4):
        expect(rows.nth(i)).to_be_checked()
    rows.nth(0).uncheck()
    assert all_box.evaluate("box => box.indeterminate") is True
    page.keyboard.press("Tab")  # the header box stays reachable and works both ways
    all_box.focus()
    page.keyboard.press("Space")
    expect(rows.nth(0)).to_be_checked()
    screenshot(page, f"drivers-select-all-{width}")
    assert page.console_errors == []


def test_removing_every_matching_driver_without_script(scene, live_server, browser):
    w, h = WIDTHS["laptop"]
    context = browser.new_context(viewport={"width": w, "height": h}, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("nadia@voltlease.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + "/drivers/?q=archer")
    expect(page.get_by_label("Select every connected driver on this page")).to_be_hidden()
    page.get_by_label("Every connected driver matching the filter").check()
    page.get_by_role("button", name="Remove drivers").click()
    expect(page.get_by_text("1 driver removed")).to_be_visible()
    assert set(
        Membership.objects.filter(status=MembershipStatus.REMOVED).values_list(
            "driver__email", flat=True
        )
    ) == {"alice@example.com"}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_approving_all_waiting_requests(scene, live_server, browser, width):
    page = log_in(browser, live_server, "nadia@voltlease.example", width)
    page.goto(live_server.url + "/requests/")
    all_box = page.get_by_label("Select every request on this page")
    all_box.focus()
    page.keyboard.press("Space")
    for box in page.locator('tbody input[name="ids"]').all():
        expect(box).to_be_checked()
    screenshot(page, f"requests-select-all-{width}")
    page.get_by_role("group", name="Decide on the ticked requests").get_by_role(
        "button", name="Approve", exact=True
    ).click()
    expect(page.get_by_text("3 requests approved")).to_be_visible()
    assert not Membership.objects.filter(status=MembershipStatus.PENDING).exists()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_chargers_and_home_charging_filters(scene, live_server, browser, width):
    page = log_in(browser, live_server, "nadia@voltlease.example", width)
    page.goto(live_server.url + "/chargers/")
    page.get_by_label("State").select_option("online")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("1 charger", exact=True)).to_be_visible()
    page.get_by_role("link", name="Identity").click()
    expect(page.locator('th[aria-sort="descending"]')).to_have_count(1)
    screenshot(page, f"chargers-filtered-{width}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export (CSV)").click()
    assert download.value.suggested_filename.startswith("chargers-")

    page.goto(live_server.url + "/home-charging/")
    page.get_by_label("Search").fill("a")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("link", name="Energy (kWh)").click()
    expect(page.locator('th[aria-sort="ascending"]')).to_have_text("Energy (kWh) ▲")
    screenshot(page, f"home-charging-filtered-{width}")
    assert page.console_errors == []


@pytest.mark.parametrize("width", list(WIDTHS))
def test_breadcrumbs_on_a_driver_s_page(scene, live_server, browser, width):
    page = log_in(browser, live_server, "nadia@voltlease.example", width)
    dirk = Membership.objects.get(driver__email="dirk@example.com")
    page.goto(f"{live_server.url}/drivers/{dirk.pk}/")
    trail = page.get_by_role("navigation", name="Breadcrumb")
    expect(trail.get_by_role("link", name="Drivers")).to_be_visible()
    expect(trail.get_by_text("Dirk de Vries-Oosterhuizen")).to_have_attribute(
        "aria-current", "page"
    )
    screenshot(page, f"driver-breadcrumbs-{width}")
    trail.get_by_role("link", name="Drivers").click()
    expect(page.get_by_role("heading", name="Drivers")).to_be_visible()


def test_taking_back_request_additional_info(scene, live_server, browser):
    page = log_in(browser, live_server, "otto@voltlease.example", "phone")
    home: Connection = scene["home"]
    page.goto(f"{live_server.url}/connections/{home.pk}/edit/")
    question = page.get_by_role("textbox", name="Request Additional Info")
    expect(question).to_have_value("Licence plate")
    expect(page.get_by_role("button", name="+ Request Additional Info")).to_be_hidden()
    question.scroll_into_view_if_needed()
    screenshot(page, "connection-additional-info-asked-phone")
    page.get_by_role("button", name="Remove this question").click()
    expect(question).to_be_hidden()
    add = page.get_by_role("button", name="+ Request Additional Info")
    expect(add).to_be_focused()
    screenshot(page, "connection-additional-info-removed-phone")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Connection saved.")).to_be_visible()
    home.refresh_from_db()
    assert home.verification_2_label == ""
    assert Membership.objects.exclude(verification_1="").count() == 4
    assert page.console_errors == []
