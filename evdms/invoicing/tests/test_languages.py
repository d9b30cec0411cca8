"""Issue #19: a German admin's invoice pages are German; the PDF and its e-invoice stay
English whoever renders it."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from evdms.invoicing.invoice_pdf import render_invoice_pdf
from evdms.invoicing.tests.invoice_fixtures import Invoices, invoices_fixture  # noqa: F401
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db


def test_a_german_admins_invoice_pages_are_german(invoices: Invoices):
    user = invoices.world.nadia.user
    assert user is not None
    user.language = "de"
    user.save(update_fields=["language"])
    client = client_for(invoices.world.nadia)
    listing = client.get(reverse("invoicing:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    german_words = ["Rechnungen", "Dienstleistungen", "Oktober 2026", "EUR 1.815,00"]
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
        "EUR 39,33",
        "Zahlungsreferenz",
    ]:
        assert german in page, german
    for english in ["VAT summary", "Payment reference", "Due date", "Lines"]:
        assert english not in page, english


def test_the_invoice_pdf_stays_english_in_any_language(invoices: Invoices):
    with translation.override("de"):
        content = render_invoice_pdf(invoices.services)
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Services invoice" in text and "Dienstleistungen" not in text
    assert "39.33" in text
