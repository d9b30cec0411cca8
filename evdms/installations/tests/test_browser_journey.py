"""The whole installation, in real Chromium, as the people do it: a driver joins a
connection whose home charger a certified installer installs (Customised Quoting); the
installer's technician contacts and surveys, the manager quotes; the organisation approves
its part through the link e-mailed to the Customer Support Email; the driver approves
theirs; the technician schedules and installs; the charger connects to the real OCPP
gateway and the job commissions itself; the manager uploads the declaration and the job
completes. Then the Network Manager's report shows the row, and the outbox holds the
e-mails each party was sent.

Each person's main pages pass ``check_page``: the driver's on a phone, the installer's,
the approval link's and the report on a laptop. The shorter
``test_quote_and_approve_it_on_a_laptop_and_a_phone`` checks the quote pages (the portal's
job page with its quote form, the approval link's page, the driver's installation and
quote pages) at both widths, so each is seen on the screen the journey does not use."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from fpdf import FPDF
from PIL import Image
from playwright.sync_api import Page, expect

from evdms.accounts.models import User
from evdms.charging.simulator import run_charger
from evdms.charging.tests.conftest import gateway  # noqa: F401 (the fixture)
from evdms.installations.models import InstallationJob, JobStatus
from evdms.notifications.models import OutboundEmail
from evdms.testing.aio import run_async
from evdms.testing.browser import (
    DESKTOP,
    PHONE,
    both_screens,
    check_page,
    is_phone,
    screenshot,
)
from evdms.testing.fixtures import PASSWORD, make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DRIVER_PASSWORD = "dora's long passphrase"


def log_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def files(tmp_path: Path) -> tuple[Path, Path]:
    photo = tmp_path / "fuse-box.jpg"
    image = Image.new("RGB", (800, 600), (180, 190, 200))
    out = io.BytesIO()
    image.save(out, "JPEG")
    photo.write_bytes(out.getvalue())
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 12)
    pdf.cell(0, 10, "Installer declaration: installed and tested.")
    declaration = tmp_path / "declaration.pdf"
    declaration.write_bytes(bytes(pdf.output()))
    return photo, declaration


def test_a_home_charger_installation_from_joining_to_completed(
    world,
    live_server,
    browser,
    gateway,  # noqa: F811
    tmp_path,
):
    try:
        journey(world, live_server.url, browser, gateway, tmp_path)
    except BaseException:
        # Each person has a browser context of their own: keep a picture of every page.
        for n, context in enumerate(browser.contexts):
            for m, page in enumerate(context.pages):
                screenshot(page, f"installation-journey-failed-{n}-{m}")
        raise


def journey(world, base: str, browser, gateway: str, tmp_path: Path) -> None:  # noqa: F811
    installer = make_installer(slug="sparkfit", name="Sparkfit Installations")
    connection = make_connection(
        world.org_a,
        name="Voltlease_Home Custom",
        installation_payment_model="customised_quoting",
        installation_standard_price="",
        approval_type="auto",
        home_warranty_and_labour="yes",
        installation_warranty_months="24",
    )
    User.objects.create_user(
        "dora@example.com",
        DRIVER_PASSWORD,
        full_name="Dora Driver",
        email_confirmed_at=timezone.now(),
    )
    photo, declaration = files(tmp_path)

    # The driver joins, on her phone.
    phone = browser.new_context(**PHONE, locale="en-GB")
    driver = phone.new_page()
    log_in(driver, base, "dora@example.com", DRIVER_PASSWORD)
    driver.goto(f"{base}/join/{connection.invite_token}/")
    check_page(driver)
    driver.get_by_role("link", name="Join", exact=True).click()
    expect(driver.get_by_label("Installation address")).to_be_visible()
    check_page(driver)
    driver.get_by_label("Phone number").fill("+31 6 1111 2222")
    driver.get_by_label("Installation address").fill("Damrak 12")
    driver.get_by_label("Postcode").fill("1012 LG")
    driver.get_by_label("Town or city").fill("Amsterdam")
    driver.get_by_label("Country").select_option("NL")
    driver.get_by_role("button", name="Join", exact=True).click()
    expect(driver.get_by_role("heading", name="My connections")).to_be_visible()
    check_page(driver)
    job = InstallationJob.objects.get()
    assert job.installer == installer.company and job.status == JobStatus.ASSIGNED

    # The technician: contact, survey with a photo.
    desk = browser.new_context(**DESKTOP, locale="en-GB")
    tech = desk.new_page()
    log_in(tech, base, installer.technician.email)
    check_page(tech)  # the portal's home
    tech.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(tech.get_by_role("link", name="Dora Driver")).to_be_visible()
    check_page(tech)
    tech.get_by_role("link", name="Dora Driver").click()
    expect(tech.get_by_role("heading", name="Installation for Dora Driver")).to_be_visible()
    check_page(tech)
    tech.get_by_label("When").fill(timezone.now().strftime("%Y-%m-%dT%H:%M"))
    tech.get_by_label("Outcome").select_option("reached")
    tech.get_by_role("button", name="Record", exact=True).click()
    expect(tech.get_by_text("Contacted").first).to_be_visible()
    tech.get_by_label("Photo").set_input_files(str(photo))
    tech.get_by_role("button", name="Upload").click()
    tech.get_by_label("Survey notes").fill("Fuse box in the hall; 12 m of cable to the drive.")
    tech.get_by_role("button", name="Record the survey").click()
    expect(tech.get_by_text("Surveyed").first).to_be_visible()
    expect(tech.get_by_role("img", name=re.compile("Survey photo"))).to_be_visible()
    check_page(tech)
    desk.close()

    # The manager quotes: the standard package, an extra, and an extra the driver asked for.
    desk = browser.new_context(**DESKTOP, locale="en-GB")
    manager = desk.new_page()
    log_in(manager, base, installer.manager.email)
    manager.goto(f"{base}/installer/jobs/{job.pk}/")
    expect(manager.get_by_role("button", name="Submit the quote")).to_be_visible()
    check_page(manager)
    lines = [
        ("standard_package", "Standard installation package", "1", "950.00", "21"),
        ("extra", "Extra cable (per metre)", "2", "18.50", "21"),
        ("driver_extra", "Second socket in the carport", "1", "160.00", "21"),
    ]
    for i, (kind, description, quantity, price, vat) in enumerate(lines):
        if i:
            manager.get_by_role("button", name="Add a line").click()
        manager.locator(f"#lines-{i}-kind").select_option(kind)
        manager.locator(f"#lines-{i}-description").fill(description)
        manager.locator(f"#lines-{i}-quantity").fill(quantity)
        manager.locator(f"#lines-{i}-unit_price").fill("-5" if i == 1 else price)
        manager.locator(f"#lines-{i}-vat_rate").fill(vat)
    manager.get_by_role("button", name="Submit the quote").click()
    # A negative price is refused next to its line, and nothing typed is lost.
    expect(manager.locator("#lines-1-unit_price")).to_have_value("-5")
    expect(manager.locator(".quote-line").nth(1).locator(".error")).to_be_visible()
    assert not job.quotes.exists()
    expect(manager.locator("#lines-2-description")).to_have_value("Second socket in the carport")
    check_page(manager)  # the form with its error
    manager.locator("#lines-1-unit_price").fill("18.50")
    manager.get_by_role("button", name="Submit the quote").click()
    expect(manager.get_by_text("Quoted").first).to_be_visible()
    check_page(manager)
    screenshot(manager, "installation-portal-quoted")
    quote = job.quotes.get()
    # Customised Quoting: the organisation pays the package and the extra, the driver
    # the extra she asked for; incl. VAT, to the cent.
    assert (quote.organisation_share, quote.driver_share) == (
        (Decimal("950.00") + 2 * Decimal("18.50")) * Decimal("1.21"),
        Decimal("193.60"),
    )

    # The organisation approves through the link e-mailed to the Customer Support Email.
    email = OutboundEmail.objects.get(template="quote_for_approval")
    assert email.to == ["support@voltlease.example"]
    link = re.search(r"https?://[^/\s]+(/quote-approval/\S+/)", email.text_body)
    assert link is not None
    anyone = browser.new_context(**DESKTOP, locale="en-GB")
    page = anyone.new_page()
    page.goto(base + link.group(1))
    expect(page.get_by_role("heading", name="Quote for approval")).to_be_visible()
    expect(page.get_by_text("Dora Driver")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", name="Quote approved")).to_be_visible()
    check_page(page)
    page.goto(base + link.group(1))  # single use
    expect(page.get_by_role("heading", name="This approval link was already used")).to_be_visible()
    check_page(page)
    anyone.close()

    # The driver approves her part on her own pages.
    driver.goto(base + "/my/installation/")
    check_page(driver)
    driver.get_by_role("link", name="Review and decide on your part").click()
    expect(driver.get_by_role("heading", name="Your decision")).to_be_visible()
    check_page(driver)
    driver.get_by_role("button", name="Approve").click()
    expect(driver.get_by_role("heading", name="Your decision")).to_have_count(0)
    check_page(driver)
    job.refresh_from_db()
    assert job.status == JobStatus.QUOTE_APPROVED

    # The technician schedules and installs; the page shows the charger's password once.
    desk = browser.new_context(**DESKTOP, locale="en-GB")
    tech = desk.new_page()
    log_in(tech, base, installer.technician.email)
    tech.goto(f"{base}/installer/jobs/{job.pk}/")
    check_page(tech)
    soon = timezone.localtime(timezone.now() + datetime.timedelta(days=3))
    tech.get_by_label("Appointment").fill(soon.strftime("%Y-%m-%dT10:00"))
    tech.get_by_role("button", name="Save; the driver is e-mailed").click()
    expect(tech.get_by_text("Scheduled").first).to_be_visible()
    tech.get_by_label("OCPP identity").fill("DORA-HOME")
    tech.get_by_label("Charger serial number").fill("ALF-2026-0042")
    tech.get_by_label("Vendor").fill("Alfen")
    tech.get_by_label("Model").fill("Eve Single Pro-line")
    tech.get_by_label("Meter's MID certificate number").fill("MID-NL-4711")
    tech.get_by_role("button", name="Record the installation").click()
    expect(tech.get_by_role("heading", name="Configure the charger now")).to_be_visible()
    check_page(tech)
    password = tech.get_by_label("Charger password").input_value()
    tech.reload()
    expect(tech.get_by_role("heading", name="Configure the charger now")).to_have_count(0)
    desk.close()

    # The charger connects to the real gateway: its first boot commissions the job.
    run_async(run_charger(gateway, "DORA-HOME", password, "1.6", []))
    job.refresh_from_db()
    assert job.status == JobStatus.COMMISSIONED and job.warranty_until is not None

    # The manager uploads the declaration: completed.
    manager.goto(f"{base}/installer/jobs/{job.pk}/")
    manager.get_by_label("Installer declaration (PDF)").set_input_files(str(declaration))
    form = manager.locator("form", has_text="Installer declaration")
    form.get_by_role("button", name="Upload").click()
    expect(manager.get_by_text("Completed").first).to_be_visible()
    check_page(manager)
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED

    # The driver sees it done, with the warranty.
    driver.goto(base + "/my/installation/")
    expect(driver.get_by_text("ALF-2026-0042")).to_be_visible()
    expect(driver.get_by_text(re.compile("[Ww]arranty"))).to_be_visible()
    check_page(driver)
    screenshot(driver, "installation-driver-completed-mobile")
    phone.close()

    # The Network Manager's Home Charger Installation Report.
    office = browser.new_context(**DESKTOP, locale="en-GB")
    nadia = office.new_page()
    log_in(nadia, base, world.nadia.email)
    nadia.get_by_role("navigation", name="Main").get_by_role("link", name="Installations").click()
    row = nadia.get_by_role("row").filter(has_text="Dora Driver")
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("Sparkfit Installations")
    expect(row).to_contain_text("ALF-2026-0042")
    expect(row).to_contain_text("MID-NL-4711")
    check_page(nadia)
    screenshot(nadia, "installation-report")
    nadia.goto(f"{base}/installations/jobs/{job.pk}/")
    expect(nadia.get_by_role("heading", name="Installation for Dora Driver")).to_be_visible()
    expect(nadia.get_by_text("ALF-2026-0042").first).to_be_visible()
    check_page(nadia)
    office.close()

    sent = {(e.template, tuple(e.to)) for e in OutboundEmail.objects.all()}
    support = ("support@voltlease.example",)
    for template in ("installation_job_created", "quote_for_approval", "installation_declaration"):
        assert (template, support) in sent, template
    dora = ("dora@example.com",)
    for template in (
        "installation_driver_contact",
        "quote_driver_part",
        "installation_appointment",
        "installation_installed",
    ):
        assert (template, dora) in sent, template
    assert any(t == "installation_new_job" for t, _ in sent)
    declaration_email = OutboundEmail.objects.get(template="installation_declaration")
    assert declaration_email.attachments[0]["content_type"] == "application/pdf"


@both_screens
def test_quote_and_approve_it_on_a_laptop_and_a_phone(world, live_server, page):
    base = live_server.url
    phone = is_phone(page)
    installer = make_installer(slug="sparkfit", name="Sparkfit Installations")
    connection = make_connection(
        world.org_a,
        name="Voltlease_Home Custom",
        installation_payment_model="customised_quoting",
        installation_standard_price="",
    )
    dora = User.objects.create_user(
        "dora@example.com",
        DRIVER_PASSWORD,
        full_name="Dora Driver",
        email_confirmed_at=timezone.now(),
    )
    job = make_job(connection, dora, installer.company, status=JobStatus.SURVEYED)

    # The installer's manager quotes on the job page.
    log_in(page, base, installer.manager.email)
    page.goto(f"{base}/installer/jobs/{job.pk}/")
    expect(page.get_by_role("heading", name="Installation for Dora Driver")).to_be_visible()
    expect(page.get_by_role("button", name="Submit the quote")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Add a line").click()
    lines = [
        ("standard_package", "Standard installation package", "1", "950.00"),
        ("driver_extra", "Second socket in the carport", "1", "160.00"),
    ]
    for i, (kind, description, quantity, price) in enumerate(lines):
        page.locator(f"#lines-{i}-kind").select_option(kind)
        page.locator(f"#lines-{i}-description").fill(description)
        page.locator(f"#lines-{i}-quantity").fill(quantity)
        page.locator(f"#lines-{i}-unit_price").fill(price)
        page.locator(f"#lines-{i}-vat_rate").fill("21")
    check_page(page)  # two lines
    if phone:
        screenshot(page, "installation-quote-form-phone")
    page.get_by_role("button", name="Submit the quote").click()
    expect(page.get_by_text("Quoted").first).to_be_visible()
    quote = page.locator("section.quote")
    expect(quote.get_by_role("row").filter(has_text="Second socket")).to_contain_text("193.60")
    expect(quote).to_contain_text("€1,149.50")  # the organisation's share, incl. VAT
    check_page(page)
    if phone:
        screenshot(page, "installation-portal-quoted-phone")
    page.context.clear_cookies()

    # The organisation approves its part through the e-mailed link.
    email = OutboundEmail.objects.get(template="quote_for_approval")
    link = re.search(r"https?://[^/\s]+(/quote-approval/\S+/)", email.text_body)
    assert link is not None
    page.goto(base + link.group(1))
    expect(page.get_by_role("heading", name="Quote for approval")).to_be_visible()
    expect(page.get_by_text("Approve the organisation's part (€1,149.50)")).to_be_visible()
    check_page(page)
    if phone:
        screenshot(page, "installation-quote-approval-phone")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", name="Quote approved")).to_be_visible()
    check_page(page)

    # The driver decides on her part.
    log_in(page, base, "dora@example.com", DRIVER_PASSWORD)
    page.goto(base + "/my/installation/")
    expect(page.get_by_text("your part is €193.60 of €1,343.10")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Review and decide on your part").click()
    expect(page.get_by_role("heading", name="Your decision")).to_be_visible()
    expect(page.get_by_text("Your part is €193.60 incl. VAT.")).to_be_visible()
    check_page(page)
    if phone:
        screenshot(page, "installation-driver-quote-phone")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("heading", name="Your decision")).to_have_count(0)
    check_page(page)
    job.refresh_from_db()
    assert job.status == JobStatus.QUOTE_APPROVED
    assert page.console_errors == []
