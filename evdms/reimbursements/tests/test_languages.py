"""Issue #19: a driver's reimbursement page and statement PDF in the driver's language."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from evdms.notifications.models import OutboundEmail
from evdms.reimbursements.models import HomePrice, Statement
from evdms.reimbursements.statement_emails import statement_email
from evdms.reimbursements.statement_pdf import statement_pdf
from evdms.reimbursements.tests.conftest import october
from evdms.testing.fixtures import make_connection, make_membership
from evdms.testing.languages import driver_speaking, logged_in, speaking

pytestmark = pytest.mark.django_db


def test_a_german_drivers_reimbursement_page_is_german(world):
    dieter = driver_speaking(
        "de", email="dieter@example.com", full_name="Dieter Fahrer", confirmed=True
    )
    connection = make_connection(world.org_a, name="Heimladen", max_price_per_kwh="0.29")
    make_membership(connection, dieter)
    HomePrice.objects.create(
        driver=dieter, price_per_kwh=Decimal("0.3150"), valid_from=date(2026, 1, 1)
    )
    Statement.objects.create(
        driver=dieter,
        connection=connection,
        month=date(2026, 10, 1),
        currency="EUR",
        total=Decimal("1234.50"),
        status="held",
        held_reason="no bank details",
    )
    # The browser asks for English: the driver's own choice wins.
    response = logged_in(dieter).get(reverse("reimbursements:mine"), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response["Content-Language"] == "de"
    for german in [
        "Erstattung für Laden zu Hause",
        "erstattet Ihr Laden zu Hause zu Ihrem Preis pro kWh, bis zu 0,29\xa0€ pro kWh.",
        "Ihr Preis (0,315) liegt über dem Höchstpreis von",
        'data-max-price="0.2900"',
        "Bankverbindung speichern",
        "Name des Kontoinhabers",
        "Strompreis zu Hause pro kWh",
        "Ihr aktueller Preis",
        "Aktuell",
        "Erstattungsabrechnungen",
        "Oktober 2026",
        "1.234,50\xa0€",
        "Zurückgehalten (keine Bankverbindung)",
    ]:
        assert german in page, german
    for english in [
        "Reimbursement of home charging",
        "reimburses your home charging",
        "Bank details",
        "Save price",
        "Home price per kWh",
        "Your prices",
        "Account holder name",
        "Held",
        "no bank details",
        "October",
        "Statements",
    ]:
        assert english not in page, english


def test_a_dutch_drivers_statement_pdf_has_dutch_labels_wherever_it_is_made(world, make_statement):
    statement = make_statement("noor@example.com", total="1234.50", sessions=[(october(3), 10_000)])
    noor = speaking(statement.driver, "nl")
    statement.refresh_from_db()

    def assert_dutch(content: bytes) -> None:
        text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
        for dutch in [
            "Vergoeding thuisladen - oktober 2026",
            "Vergoedingsoverzicht",
            "Bestuurder",
            "Laadregeling",
            "Betaald aan",
            "Klaar voor betaling",
            "Start laadsessie",
            "Jouw prijs",
            "Bedrag (EUR)",
            "Totaal (afgerond op de cent)",
            "1.234,50",
            "10,000",
        ]:
            assert dutch in text, dutch
        for english in ["Statement", "Session start", "Paid to", "Your price", "Total", "October"]:
            assert english not in text, english

    # In the worker (no language active), as attached to the monthly e-mail …
    assert_dutch(statement_pdf(statement))
    statement_email(statement)
    email = OutboundEmail.objects.get(template="reimbursement_statement")
    assert email.language == "nl"
    # … and downloaded from a page whose browser asks for English.
    response = logged_in(noor).get(
        reverse("reimbursements:statement_pdf", args=[statement.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert_dutch(response.content)


def test_a_german_drivers_statement_pdf_writes_its_amounts_in_german(world, make_statement):
    """Issue #19: the statement PDF's amounts read as the pages' do in German, the total
    with its currency after it ("1.234,50 €", which the embedded font prints)."""
    statement = make_statement(
        "dieter@example.com", total="1234.50", sessions=[(october(3), 4_938_000)]
    )
    statement.driver.language = "de"
    statement.driver.save(update_fields=["language"])
    statement.refresh_from_db()
    text = PdfReader(io.BytesIO(statement_pdf(statement))).pages[0].extract_text()
    assert "Erstattung für Laden zu Hause - Oktober 2026" in text
    assert "Summe (auf den Cent gerundet) 1.234,50\xa0€" in text
    assert "1.234,5000" in text  # the exact line amount, 4,938 kWh at 0,25
    assert "4.938,000" in text  # kWh
    assert "EUR 1" not in text and "1,234.50" not in text and "?" not in text


@pytest.mark.parametrize(
    ("language", "not_a_number"),
    [
        ("nl", "Vul een getal in, bijv. 0,27."),
        ("de", "Geben Sie eine Zahl ein, z. B. 0,27."),
        ("fr", "Saisissez un nombre, p. ex. 0,27."),
    ],
)
def test_a_driver_types_a_home_price_with_their_decimal_comma(world, language, not_a_number):
    driver = driver_speaking(language, confirmed=True)
    make_membership(make_connection(world.org_a), driver)
    client = logged_in(driver)
    page = client.get(reverse("reimbursements:mine")).content.decode()
    assert 'placeholder="0,27"' in page and 'placeholder="0.27"' not in page

    post = reverse("reimbursements:home_price")
    refused = client.post(post, {"price_per_kwh": "cheap"})
    assert refused.status_code == 422
    assert not_a_number in refused.content.decode()
    # "0.275" may be 275 grouped: refused, not guessed.
    assert client.post(post, {"price_per_kwh": "0.275"}).status_code == 422
    assert client.post(post, {"price_per_kwh": "0,275"}).status_code == 302
    assert HomePrice.objects.get(driver=driver).price_per_kwh == Decimal("0.275")


def test_a_dutch_driver_confirms_an_unusually_high_price_in_dutch_figures(world):
    driver = driver_speaking("nl", confirmed=True)
    make_membership(make_connection(world.org_a), driver)
    client = logged_in(driver)
    post = reverse("reimbursements:home_price")
    refused = client.post(post, {"price_per_kwh": "12,5"})
    page = refused.content.decode()
    assert refused.status_code == 422
    assert "12,50 per kWh" in page and 'value="12,5"' in page
    confirmed = client.post(
        post, {"price_per_kwh": "12,5", "confirm": "on", "confirmed_price": "12,5"}
    )
    assert confirmed.status_code == 302
    assert HomePrice.objects.get(driver=driver).price_per_kwh == Decimal("12.5")


def test_bank_details_mail_is_in_the_organisations_language_for_a_driver_without_one(world):
    from evdms.reimbursements.services import bank_account_set

    world.org_a.default_language = "nl"
    world.org_a.save(update_fields=["default_language"])
    driver = driver_speaking("", confirmed=True)
    make_membership(make_connection(world.org_a), driver)
    bank_account_set(driver=driver, holder="Dora Driver", iban="NL91ABNA0417164300")
    email = OutboundEmail.objects.get(template="bank_account_changed")
    assert email.language == "nl"
    assert email.subject == "Je bankgegevens voor vergoedingen zijn toegevoegd"


def test_a_french_drivers_statement_groups_its_figures_alike(world, make_statement):
    """Energy (Django's formats) and money (Babel's) group French digits with the same
    narrow no-break space in the PDF."""
    sessions = [(october(3), 1_234_567)]
    statement = make_statement("fleur@example.com", total="1234.50", sessions=sessions)
    speaking(statement.driver, "fr")
    statement.refresh_from_db()
    text = PdfReader(io.BytesIO(statement_pdf(statement))).pages[0].extract_text()
    assert "1\u202f234,50" in text and "1\u202f234,567" in text
    assert "1\xa0234" not in text
