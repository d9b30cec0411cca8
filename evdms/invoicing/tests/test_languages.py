"""Issue #19: a German admin's invoice pages are German; the PDF and the invoice e-mail
are in the buyer organisation's default language whoever renders them, the embedded
e-invoice the same document in any."""

from __future__ import annotations

import io

import facturx
import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from evdms.accounts.models import Organisation
from evdms.invoicing.delivery import invoice_send
from evdms.invoicing.einvoice import invoice_xml
from evdms.invoicing.invoice_pdf import render_invoice_pdf
from evdms.invoicing.tests.documents_fixtures import billed_organisation, services_invoice
from evdms.invoicing.tests.invoice_fixtures import Invoices, invoices_fixture  # noqa: F401
from evdms.testing.languages import admin_speaking

pytestmark = pytest.mark.django_db


def test_a_german_admins_invoice_pages_are_german(invoices: Invoices):
    client = admin_speaking(invoices.world.nadia, "de")
    listing = client.get(reverse("invoicing:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    german_words = ["Rechnungen", "Dienstleistungen", "Oktober 2026", "1.815,00\xa0€"]
    for german in [*german_words, "5 Rechnungen"]:
        assert german in listing, german
    for english in ["No invoices match", "Total incl. VAT", "5 invoices", "Issue date"]:
        assert english not in listing, english
    services = invoices.services
    page = client.get(reverse("invoicing:detail", args=[services.pk])).content.decode()
    for german in [
        f"Rechnung {services.number} (Dienstleistungen)",
        "USt.-Übersicht",
        "Summe inkl. USt.",
        "39,33\xa0€",
        "Zahlungsreferenz",
    ]:
        assert german in page, german
    for english in ["VAT summary", "Payment reference", "Due date", "Lines"]:
        assert english not in page, english


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _organisation(slug: str, language: str) -> Organisation:
    org = billed_organisation(slug)
    org.default_language = language
    org.save(update_fields=["default_language"])
    return org


def test_a_german_organisations_invoice_pdf_is_german_and_its_e_invoice_the_same():
    invoice = services_invoice(_organisation("acme", "de"))
    with translation.override("fr"):  # whoever renders it: an admin in French, say
        german = render_invoice_pdf(invoice)
    text = _pdf_text(german)
    for expected in [
        "Dienstleistungsrechnung",
        "Rechnungsempfänger",
        "Rechnungsnummer SRV-2026-000001",
        "Rechnungsdatum 1. Dezember 2026",
        "Fälligkeitsdatum 31. Dezember 2026",
        "Abgerechneter Monat November 2026",
        "USt.-Übersicht",
        "Regelsatz 21 %",
        "Summe exkl. USt. 148,50\xa0€",
        "Zahlbetrag 179,69\xa0€",
        # In a paragraph fpdf2 keeps "179,69 €" on one line and draws its no-break space
        # as a space.
        "Bitte überweisen Sie 179,69 € bis zum 31. Dezember 2026",
        "Seite 1 von 1",
        "3 Monate",
    ]:
        assert expected in text, expected
    for english in ["Services invoice", "Bill to", "Due date", "VAT summary", "December"]:
        assert english not in text, english

    # The e-invoice inside is the one document whoever renders it, in the language of
    # its lines (the organisation's): the same bytes from an English-speaking worker.
    _name, german_xml = facturx.get_facturx_xml_from_pdf(german, check_xsd=False)
    with translation.override("en-gb"):
        again = render_invoice_pdf(invoice)
    _name, xml_again = facturx.get_facturx_xml_from_pdf(again, check_xsd=False)
    with translation.override("de"):
        assert german_xml == xml_again == invoice_xml(invoice)
    assert "Zahlbar bis 31. Dez. 2026, mit Angabe von RF" in german_xml.decode()
    assert "Payable by" not in german_xml.decode()


def test_a_dutch_organisations_invoice_email_is_dutch_with_a_dutch_month(
    mailoutbox, django_capture_on_commit_callbacks
):
    invoice = services_invoice(_organisation("acme", "nl"))
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_send(invoice.pk) is True
    (mail,) = [m for m in mailoutbox if invoice.number in m.subject]
    assert mail.subject == f"Dienstenfactuur {invoice.number} van evdms Platform B.V."
    html = mail.alternatives[0][0]
    for body in (mail.body, html):
        assert "dienstenfactuur" in body
        assert "31 december 2026" in body  # the due date, a Dutch month
        assert "november 2026" in body
        assert "€\xa0179,69" in body
        for english in ["Please find", "Services", "December", "due on"]:
            assert english not in body, english
