"""Issue #19, done when: a Dutch driver joins, gives bank details and reads statements
entirely in Dutch, a German Network Manager runs the back office in German, and every
e-mail arrives in its recipient's language.

In real Chromium, each walk checks every page it opens: its ``<html lang>`` and that no
text on it is an English message its language translates (``assert_page_in``), and its
layout and accessibility (``check_page``): longer Dutch and German words must not
break the page. The driver's e-mails are read the same way.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect
from pypdf import PdfReader

from evdms.charging.models import ChargingSession
from evdms.charging.services import charger_register
from evdms.enrolment import services as enrolment
from evdms.enrolment.models import Membership
from evdms.invoicing.tests.invoice_fixtures import Invoices, invoices_fixture  # noqa: F401
from evdms.notifications.models import OutboundEmail
from evdms.reimbursements.models import HomePrice
from evdms.reimbursements.services.statements import statements_run
from evdms.testing.browser import both_screens, check_page, main_nav_link, screenshot
from evdms.testing.fixtures import PASSWORD, make_connection, make_membership
from evdms.testing.languages import (
    assert_page_in,
    driver_speaking,
    email_texts,
    english_in,
    translated,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

nl = partial(translated, "nl")
de = partial(translated, "de")

DAAN = "daan@example.nl"
DAAN_PASSWORD = "daan's long passphrase"


def dutch(page) -> None:
    assert_page_in(page, "nl")
    check_page(page)


def german(page) -> None:
    assert_page_in(page, "de")
    check_page(page)


def not_refusals(console_errors: list[str]) -> list[str]:
    """The browser's console errors but the 422 answers of the forms sent wrong on
    purpose."""
    return [e for e in console_errors if "status of 422" not in e]


def assert_emails_in(emails: list[OutboundEmail], language: str) -> None:
    for email in emails:
        assert email.language == language, (email.template, email.language)
        shown = email_texts(email.subject, email.text_body, email.html_body)
        assert english_in(shown, language) == [], email.template
        assert f'<html lang="{language}">' in email.html_body, email.template


def an_october_home_session(driver, connection) -> None:
    """10 kWh charged at home on 3 October 2026, on the driver's own charger, at a home
    price of EUR 0.25 per kWh."""
    charger, _password = charger_register(
        actor=None,
        organisation=connection.organisation,
        identity="DAAN-1",
        serial="S-1",
        driver=driver,
    )
    HomePrice.objects.create(
        driver=driver, price_per_kwh=Decimal("0.25"), valid_from=date(2026, 1, 1)
    )
    started = datetime(2026, 10, 3, 18, 0, tzinfo=UTC)
    ChargingSession.objects.create(
        charger=charger,
        organisation=connection.organisation,
        driver=driver,
        connection=connection,
        transaction_id="DAAN-OCT-1",
        started_at=started,
        ended_at=started + timedelta(hours=2),
        energy_wh=10_000,
        status="completed",
    )


@both_screens
@pytest.mark.parametrize("locale", ["nl-NL"])
def test_a_dutch_driver_joins_gives_bank_details_and_reads_a_statement_in_dutch(
    world, live_server, page, locale
):
    # The organisation writes English to anyone who chose no language: whatever the
    # driver reads in Dutch follows the language the driver signed up in.
    assert world.org_a.default_language == "en-gb"
    connection = make_connection(world.org_a)

    page.goto(f"{live_server.url}/join/{connection.invite_token}/")
    expect(page.get_by_role("heading", name="Voltlease Drivers")).to_be_visible()
    expect(page.get_by_text("Thuisladen vergoed (tot € 0,29 per kWh)")).to_be_visible()
    dutch(page)
    page.get_by_role("link", name="Aanmelding versturen").click()
    expect(page.get_by_role("heading", name="Aanmelden bij Voltlease Drivers")).to_be_visible()
    dutch(page)
    page.get_by_role("link", name="Account aanmaken").click()
    expect(page.get_by_role("heading", name="Maak je bestuurdersaccount aan")).to_be_visible()
    dutch(page)
    page.get_by_label("Volledige naam").fill("Daan de Vries")
    page.get_by_label("E-mailadres").fill(DAAN)
    page.get_by_label("Kies een wachtwoord").fill(DAAN_PASSWORD)
    page.get_by_role("button", name="Account aanmaken").click()
    expect(page.get_by_role("heading", name=nl("Check your e-mail"))).to_be_visible()
    dutch(page)

    confirmation = OutboundEmail.objects.get(template="driver_confirm_email", to=[DAAN])
    link = re.search(r"http://127\.0\.0\.1:8000(/confirm/\S+)", confirmation.text_body)
    assert link is not None
    page.goto(live_server.url + link.group(1))
    expect(
        page.get_by_text("Bedankt: je e-mailadres is bevestigd. Log in om verder te gaan.")
    ).to_be_visible()
    dutch(page)
    page.get_by_label("E-mailadres").fill(DAAN)
    page.get_by_label("Wachtwoord").fill(DAAN_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()

    # The join form, first with a phone number the rules refuse: told so in Dutch.
    expect(page.get_by_role("heading", name="Aanmelden bij Voltlease Drivers")).to_be_visible()
    dutch(page)
    page.get_by_label("Telefoonnummer").fill("06-ABC")
    page.get_by_label("Installatieadres").fill("Oudegracht 12")
    page.get_by_label("Postcode").fill("3511 AB")
    page.get_by_label("Plaats").fill("Utrecht")
    page.get_by_role("button", name="Aanmelding versturen").click()
    expect(page.get_by_text(nl("Enter a phone number of digits, spaces and +."))).to_be_visible()
    expect(page.get_by_label("Installatieadres")).to_have_value("Oudegracht 12")
    dutch(page)
    page.get_by_label("Telefoonnummer").fill("+31 6 1234 5678")
    page.get_by_role("button", name="Aanmelding versturen").click()
    expect(page.get_by_role("heading", name="Mijn laadregelingen")).to_be_visible()
    expect(page.get_by_text("In afwachting", exact=True)).to_be_visible()
    dutch(page)

    membership = Membership.objects.get(driver__email=DAAN)
    enrolment.membership_approve(actor=world.actor(world.nadia), membership=membership)
    page.reload()
    expect(page.get_by_text("Aangesloten", exact=True)).to_be_visible()
    dutch(page)

    page.get_by_role("link", name="Vergoeding", exact=True).click()
    expect(page.get_by_role("heading", name="Vergoeding voor thuisladen")).to_be_visible()
    dutch(page)
    page.get_by_label("Naam rekeninghouder").fill("D. de Vries")
    page.get_by_label("IBAN").fill("NL91 ABNA 0417 1643 01")  # a typing error
    page.get_by_role("button", name="Bankgegevens opslaan").click()
    expect(
        page.get_by_text(nl("This IBAN's check digits are wrong: look for a typing error."))
    ).to_be_visible()
    dutch(page)
    page.get_by_label("IBAN").fill("NL91 ABNA 0417 1643 00")
    page.get_by_role("button", name="Bankgegevens opslaan").click()
    expect(page.get_by_text("Bankgegevens opgeslagen")).to_be_visible()
    dutch(page)

    driver = membership.driver
    an_october_home_session(driver, connection)
    assert statements_run(date(2026, 10, 1))["made"] == 1
    page.reload()
    row = page.get_by_role("row", name=re.compile("oktober 2026"))
    expect(row).to_contain_text("€ 2,50")  # 10 kWh at 0.25
    expect(row).to_contain_text("Klaar voor betaling")
    dutch(page)
    screenshot(page, f"dutch-driver-reimbursement-{page.viewport_size['width']}")
    with page.expect_download() as download:
        row.get_by_role("link", name=re.compile(r"\.pdf$")).click()
    pdf = Path(download.value.path()).read_bytes()
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for label in (
        "Vergoeding thuisladen - oktober 2026",
        "Vergoedingsoverzicht",
        "Bestuurder",
        "Daan de Vries",
        "Klaar voor betaling",
        "Totaal (afgerond op de cent)",
        "2,50",
    ):
        assert label in text, label
    assert english_in([line.strip() for line in text.splitlines()], "nl") == []
    assert not_refusals(page.console_errors) == []

    # Every e-mail of the walk, in Dutch: the ones in the outbox and the ones delivered.
    emails = list(OutboundEmail.objects.filter(to=[DAAN]).order_by("pk"))
    assert [(e.template, e.subject) for e in emails] == [
        ("driver_confirm_email", "Bevestig je e-mailadres"),
        ("driver_request_received", "Je aanmelding bij Voltlease Drivers"),
        ("driver_connected", "Je bent aangesloten bij Voltlease Drivers"),
        ("bank_account_changed", "Je bankgegevens voor vergoedingen zijn toegevoegd"),
        ("reimbursement_statement", "Je vergoeding voor thuisladen over oktober 2026"),
    ]
    assert_emails_in(emails, "nl")
    for email in emails:
        assert "Hallo Daan," in email.text_body, email.template
    delivered = [m.subject for m in mail.outbox if m.to == [DAAN]]
    assert delivered == [e.subject for e in emails]


@pytest.mark.parametrize("locale", ["de-DE"])
def test_a_german_network_manager_runs_the_back_office_in_german(
    world, invoices: Invoices, live_server, page, locale
):
    world.org_a.default_language = "de"  # a German organisation: its invitations too
    world.org_a.save(update_fields=["default_language"])
    assert world.nadia.user is not None
    world.nadia.user.language = "de"
    world.nadia.user.save(update_fields=["language"])
    waiting = make_connection(world.org_a, name="Firmenwagen_2026")
    jonas = driver_speaking("", email="jonas@example.de", full_name="Jonas Becker")
    make_membership(waiting, jonas, status="pending")

    page.goto(live_server.url + "/accounts/login/")
    expect(page.get_by_role("heading", name="Anmelden", exact=True)).to_be_visible()
    german(page)
    page.get_by_label("E-Mail-Adresse").fill("nadia@voltlease.example")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Übersicht", exact=True)).to_be_visible()
    german(page)

    main_nav_link(page, "Ladeprogramme").click()
    expect(page.get_by_role("heading", name="Ladeprogramme", exact=True)).to_be_visible()
    german(page)
    page.get_by_role("link", name="Neues Ladeprogramm").click()
    expect(page.get_by_role("heading", name="Neues Ladeprogramm")).to_be_visible()
    german(page)

    def field(label: str):
        """The input labelled ``label`` (a mandatory one's label also says so)."""
        return page.get_by_label(re.compile("^" + re.escape(label) + r"\s*\*?\s*(\(\w+\))?$"))

    # Sent without the connection's name first: told what is missing, in German.
    field("Name der Organisation für Fahrer").fill("Voltlease Fahrer")
    field("E-Mail-Adresse des Kundendienstes").fill("support@voltlease.example")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Bitte korrigieren Sie die unten markierten Felder.")).to_be_visible()
    expect(page.locator("#field-name .error")).to_have_text("Dieses Feld ist erforderlich.")
    expect(field("Name der Organisation für Fahrer")).to_have_value("Voltlease Fahrer")
    german(page)
    screenshot(page, "german-new-connection-error")
    field("Name des Ladeprogramms").fill("Dienstwagen_Zuhause")
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Ladeprogramm „Dienstwagen_Zuhause“ angelegt.")).to_be_visible()
    german(page)

    page.get_by_role("link", name="Fahrer einladen").click()
    expect(page.get_by_role("heading", name=re.compile("Dienstwagen_Zuhause"))).to_be_visible()
    german(page)
    page.get_by_label("E-Mail-Adressen").fill("lena@example.de")
    page.get_by_role("button", name="Einladungen senden").click()
    expect(page.get_by_text("1 von 1 gesendet.")).to_be_visible()
    german(page)
    invitation = OutboundEmail.objects.get(template="driver_invitation")
    assert invitation.to == ["lena@example.de"]
    assert invitation.subject == "Voltlease Fahrer lädt Sie zu Ladeleistungen ein"
    assert_emails_in([invitation], "de")

    main_nav_link(page, re.compile("^Teilnahmeanfragen")).click()
    expect(page.get_by_role("heading", name="Teilnahmeanfragen", exact=True)).to_be_visible()
    expect(page.get_by_text("jonas@example.de")).to_be_visible()
    german(page)
    page.get_by_role("table").get_by_role("button", name="Genehmigen", exact=True).click()
    expect(page.get_by_text("1 Anfrage genehmigt.")).to_be_visible()
    german(page)
    connected = OutboundEmail.objects.get(template="driver_connected")
    assert (connected.to, connected.subject) == (
        ["jonas@example.de"],
        "Sie sind bei Voltlease Drivers aufgenommen",
    )
    assert_emails_in([connected], "de")

    for link, heading in (
        ("Fahrer", "Fahrer"),
        ("Laden zu Hause", "Laden zu Hause"),
        ("Erstattungsabrechnungen", "Erstattungsabrechnungen"),
        ("Transaktionen", "Detaillierter Transaktionsbericht"),
        ("Installationen", de("Home Charger Installation Report")),
        ("Rechnungen", "Rechnungen"),
    ):
        main_nav_link(page, re.compile(f"^{link}$")).click()
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        german(page)
        if heading == "Fahrer":
            expect(page.get_by_text("Jonas Becker")).to_be_visible()
            screenshot(page, "german-drivers")
    expect(page.get_by_text("5 Rechnungen")).to_be_visible()
    assert not_refusals(page.console_errors) == []
