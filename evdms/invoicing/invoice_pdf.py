"""An invoice or credit note as PDF/A-3 (fpdf2, pure Python) with its EN 16931 e-invoice
embedded as Factur-X (level EN 16931): one file a person reads and a buyer's system
books.

The layout is the one a finance department expects: the seller at the top, the buyer
("Bill to"), the numbers and dates, the lines (a table whose headings repeat on every
page, so a 2,000-line Transactions invoice stays readable), the VAT summary with the
legal wording of every exemption, the totals, and how to pay (the operator's IBAN and
the structured RF reference the bank matches).

The vendored DejaVu fonts (evdms/ui/pdf_fonts.py) are embedded (PDF/A allows no
unembedded font) and carry "€", accents and the non-breaking spaces of amounts.

The pages are written in the buyer organisation's default language (issue #19), with
its amounts (evdms/ui/formatting.py, as on every page) and dates as that language writes
them; the embedded e-invoice is made in English whoever renders it: its words are the
standard's and a buyer's system reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import cast

import facturx
from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy
from fpdf import FPDF

from evdms.invoicing import vat
from evdms.invoicing.einvoice import invoice_xml
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceVat, VatCategory
from evdms.ui import formatting
from evdms.ui.language import user_language
from evdms.ui.pdf_fonts import FONT, add_fonts

# The legal wording of each category's note in the VAT summary, when the stored reason
# is blank (it never is for invoices issued by ``services.issue``).
CATEGORY_NOTES = {
    VatCategory.REVERSE_CHARGE: gettext_lazy(
        "Reverse charge: VAT to be accounted for by the recipient"
    ),
    VatCategory.EXEMPT: gettext_lazy("Exempt from VAT"),
    VatCategory.OUT_OF_SCOPE: gettext_lazy("Not subject to VAT"),
}
# The reasons ``vat.treatment_for`` stores on an invoice, in English (the e-invoice
# carries them so), as the pages say them; a reason stored otherwise is shown as stored.
STORED_REASONS: dict[str, Promise] = {
    vat.REVERSE_CHARGE_REASON: CATEGORY_NOTES[VatCategory.REVERSE_CHARGE],
    vat.PASS_THROUGH_REASON: gettext_lazy(
        "Disbursement: paid in the name and for the account of the customer (art. 79(c))"
    ),
    vat.OUT_OF_SCOPE_REASON: gettext_lazy(
        "Not subject to EU VAT: service to a business outside the EU"
    ),
}
# The title of each kind of document.
TITLES: dict[str, Promise] = {
    InvoiceKind.BUNDLE: gettext_lazy("Bundle invoice"),
    InvoiceKind.SERVICES: gettext_lazy("Services invoice"),
    InvoiceKind.TRANSACTIONS: gettext_lazy("Transactions invoice"),
    InvoiceKind.CREDIT_NOTE: gettext_lazy("Credit note"),
}
# The same within a sentence ("Please find attached services invoice …"): lower case in
# English, Dutch and French, a noun as ever in German.
TITLES_IN_SENTENCE: dict[str, Promise] = {
    InvoiceKind.BUNDLE: pgettext_lazy("within a sentence", "bundle invoice"),
    InvoiceKind.SERVICES: pgettext_lazy("within a sentence", "services invoice"),
    InvoiceKind.TRANSACTIONS: pgettext_lazy("within a sentence", "transactions invoice"),
    InvoiceKind.CREDIT_NOTE: pgettext_lazy("within a sentence", "credit note"),
}


def long_date(day: date) -> str:
    """A day as the active language writes it out: 1 December 2026, 1. Dezember 2026."""
    # Translators: a date written out in full (Django's date format letters).
    return date_format(day, _("j F Y"))


def month_text(month: date) -> str:
    return date_format(month, "YEAR_MONTH_FORMAT")


def quantity_text(quantity: Decimal, unit: str) -> str:
    if unit == "KWH":
        return formatting.number(quantity, 3)
    exponent = quantity.normalize().as_tuple().exponent
    # As many decimals as the quantity has (100 is 1E+2 normalised: none).
    return formatting.number(quantity, max(-exponent, 0) if isinstance(exponent, int) else 0)


def unit_text(quantity: Decimal, unit: str) -> str:
    """UN/ECE rec. 20 codes as a reader says them."""
    count = 1 if abs(quantity) == 1 else 2
    if unit == "DAY":
        return ngettext("day", "days", count)
    if unit == "MON":
        return ngettext("month", "months", count)
    if unit == "HUR":
        return ngettext("hour", "hours", count)
    if unit == "KWH":
        return "kWh"
    return "" if unit == "C62" else unit


def price_text(price: Decimal) -> str:
    """At least two decimals, up to the four a unit price has."""
    return formatting.price(price)


def rate_text(category: str, rate: Decimal) -> str:
    if category == VatCategory.STANDARD:
        return f"{_rate(rate)}%"
    return category  # AE / E / O: no rate applies, the category says why


def _rate(rate: Decimal) -> str:
    exponent = rate.normalize().as_tuple().exponent
    return formatting.number(rate, max(-exponent, 0) if isinstance(exponent, int) else 0)


def title_of(invoice: Invoice) -> str:
    """The document's title in the active language: Services invoice, Credit note."""
    return str(TITLES.get(invoice.kind, TITLES[InvoiceKind.SERVICES]))


def title_in_sentence(invoice: Invoice) -> str:
    return str(TITLES_IN_SENTENCE.get(invoice.kind, TITLES_IN_SENTENCE[InvoiceKind.SERVICES]))


def pdf_language(invoice: Invoice) -> str:
    """The language of the invoice's pages and e-mails: its buyer's default."""
    return user_language(None, invoice.buyer)


def _language_tag(language: str) -> str:
    """``en-gb`` as a PDF's /Lang says it: ``en-GB``."""
    return translation.to_locale(language).replace("_", "-")


class InvoiceDocument(FPDF):
    """The page frame: the number and "page n of m" at the foot of every page."""

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(format="A4", enforce_compliance="PDF/A-3B")
        self.invoice = invoice
        add_fonts(self)
        self.set_auto_page_break(auto=True, margin=18)
        self.alias_nb_pages()
        title = f"{title_of(invoice)} {invoice.number}"
        self.set_title(title)
        self.set_author(invoice.seller.get("name", ""))
        self.set_subject(title)
        self.set_lang(_language_tag(translation.get_language() or settings.LANGUAGE_CODE))

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(90)
        # fpdf2 writes the number of pages where "{nb}" stands, once all are drawn.
        foot = _("%(number)s · page %(page)s of %(pages)s") % {
            "number": self.invoice.number,
            "page": self.page_no(),
            "pages": "{nb}",
        }
        self.cell(0, 5, foot, align="R")
        self.set_text_color(0)


def _address_lines(details: dict[str, str]) -> list[str]:
    place = " ".join(part for part in (details.get("postcode"), details.get("city")) if part)
    return [text for text in (details.get("address"), place, details.get("country")) if text]


def _label_width(pdf: FPDF, labels: Sequence[str], least: float) -> float:
    """``least``, or wider where a language's labels are longer."""
    pdf.set_font(FONT, "B", 9)
    return max([least, *(pdf.get_string_width(label) + 3 for label in labels)])


def _label_rows(pdf: FPDF, rows: Sequence[tuple[str, str]], label_width: float = 42) -> None:
    label_width = _label_width(pdf, [label for label, _value in rows], label_width)
    for label, value in rows:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(label_width, 5.5, label)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")


FACTS_X = 100  # the right-hand block of numbers and dates
FACTS_LABEL_WIDTH = 40


def _parties(pdf: InvoiceDocument, invoice: Invoice) -> None:
    seller, buyer = invoice.seller, invoice.buyer_details
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 7, seller.get("name", ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8.5)
    for text in [
        *_address_lines(seller),
        _("VAT number %(number)s") % {"number": seller.get("vat_number", "")},
        seller.get("email", ""),
    ]:
        if text:
            pdf.cell(0, 4.3, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font(FONT, "B", 17)
    pdf.cell(0, 9, title_of(invoice), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    top = pdf.get_y()
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 5.5, _("Bill to"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    for text in [buyer.get("name", ""), *_address_lines(buyer)]:
        if text:
            pdf.multi_cell(85, 5, text, new_x="LMARGIN", new_y="NEXT")
    if buyer.get("vat_number"):
        pdf.cell(
            0,
            5,
            _("VAT number %(number)s") % {"number": buyer["vat_number"]},
            new_x="LMARGIN",
            new_y="NEXT",
        )
    left_bottom = pdf.get_y()

    facts = [
        (
            _("Credit note number")
            if invoice.kind == InvoiceKind.CREDIT_NOTE
            else _("Invoice number"),
            invoice.number,
        ),
        (_("Issue date"), long_date(invoice.issue_date)),
    ]
    if invoice.kind != InvoiceKind.CREDIT_NOTE:
        facts.append((_("Due date"), long_date(invoice.due_date)))
    facts.append((_("Month invoiced"), month_text(invoice.month)))
    if invoice.credits is not None:
        facts.append((_("Corrects invoice"), invoice.credits.number))
        facts.append(
            (
                pgettext("the corrected invoice's", "Invoice issued"),
                long_date(invoice.credits.issue_date),
            )
        )
    if buyer.get("purchase_order_reference"):
        facts.append((_("Purchase order"), buyer["purchase_order_reference"]))
    if invoice.kind == InvoiceKind.BUNDLE and invoice.driver is not None:
        facts.append((_("Driver"), invoice.driver.get_full_name()))
    facts.append((_("Payment reference"), invoice.payment_reference))
    label_width = _label_width(pdf, [label for label, _value in facts], FACTS_LABEL_WIDTH)
    pdf.set_y(top)
    for label, value in facts:
        pdf.set_x(FACTS_X)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(label_width, 5.5, label)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_bottom, pdf.get_y()))
    if invoice.credit_reason:
        pdf.ln(2)
        _label_rows(pdf, [(_("Reason"), invoice.credit_reason)], label_width=20)
    pdf.ln(5)


LINE_WIDTHS = (10, 80, 20, 14, 22, 14, 30)
LINE_HEADINGS = (
    "#",
    gettext_lazy("Description"),
    gettext_lazy("Quantity"),
    gettext_lazy("Unit"),
    pgettext_lazy("invoice PDF column", "Unit price"),
    gettext_lazy("VAT"),
    gettext_lazy("Amount"),
)


LINE_ALIGN = ("R", "L", "R", "L", "R", "R", "R")
ROW_HEIGHT = 4.6
# Where the text of a row sits: ``text()`` places a baseline, and costs half what
# ``cell()`` does (a 2,000-line invoice has 14,000 of them).
BASELINE = 3.3


def _line_headings(pdf: InvoiceDocument) -> None:
    pdf.set_font(FONT, "B", 8)
    pdf.set_fill_color(235, 235, 235)
    for width, heading, align in zip(LINE_WIDTHS, LINE_HEADINGS, LINE_ALIGN, strict=True):
        pdf.cell(width, 6, str(heading), border="B", fill=True, align=align)
    pdf.ln()
    pdf.set_font(FONT, "", 8)


def _lines(pdf: InvoiceDocument, invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    """The lines table. Drawn text by text (fpdf2's ``table()`` measures and wraps every
    cell, 10 ms a row: 20 s for a 2,000-line invoice); only a description too wide for
    its column is wrapped. On a new page the headings come again."""
    _line_headings(pdf)
    description_width = LINE_WIDTHS[1] - 2 * pdf.c_margin
    for line in lines:
        cells = (
            str(line.position),
            line.description,
            quantity_text(line.quantity, line.unit),
            unit_text(line.quantity, line.unit),
            price_text(line.unit_price),
            rate_text(line.vat_category, line.vat_rate),
            formatting.amount(line.net_amount),
        )
        wrapped: list[str] | None = None
        height = ROW_HEIGHT
        if pdf.get_string_width(line.description) > description_width:
            wrapped = cast(
                list[str],
                pdf.multi_cell(
                    LINE_WIDTHS[1], ROW_HEIGHT, line.description, dry_run=True, output="LINES"
                ),
            )
            height = ROW_HEIGHT * len(wrapped)
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            _line_headings(pdf)
        top = pdf.get_y()
        baseline = top + BASELINE
        left = pdf.l_margin
        for index, (width, text, align) in enumerate(
            zip(LINE_WIDTHS, cells, LINE_ALIGN, strict=True)
        ):
            if index == 1 and wrapped is not None:
                pdf.set_xy(left, top)
                pdf.multi_cell(width, ROW_HEIGHT, text, align="L")
            elif align == "L":
                pdf.text(left + pdf.c_margin, baseline, text)
            else:
                pdf.text(left + width - pdf.c_margin - pdf.get_string_width(text), baseline, text)
            left += width
        pdf.set_xy(pdf.l_margin, top + height)
        pdf.set_draw_color(215, 215, 215)
        pdf.line(pdf.l_margin, top + height, pdf.l_margin + sum(LINE_WIDTHS), top + height)
        pdf.set_draw_color(0)
    pdf.ln(4)


def _vat_and_totals(
    pdf: InvoiceDocument, invoice: Invoice, vat_lines: Sequence[InvoiceVat]
) -> None:
    currency = invoice.currency
    widths = (70, 40, 40)
    if pdf.will_page_break(12 + 6 * (len(vat_lines) + 4)):
        pdf.add_page()
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 7, _("VAT summary"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 8.5)
    pdf.set_fill_color(235, 235, 235)
    headings = (
        _("Category"),
        _("Taxable amount (%(currency)s)") % {"currency": currency},
        _("VAT (%(currency)s)") % {"currency": currency},
    )
    for width, heading in zip(widths, headings, strict=True):
        pdf.cell(width, 6, heading, border="B", fill=True, align="L" if width == 70 else "R")
    pdf.ln()
    pdf.set_font(FONT, "", 8.5)
    notes: list[str] = []
    for row in vat_lines:
        label = (
            _("Standard rate %(rate)s%%") % {"rate": _rate(row.rate)}
            if row.category == VatCategory.STANDARD
            else f"{row.get_category_display()} ({row.category})"
        )
        pdf.cell(widths[0], 6, label, border="B")
        pdf.cell(widths[1], 6, formatting.amount(row.basis), border="B", align="R")
        pdf.cell(widths[2], 6, formatting.amount(row.amount), border="B", align="R")
        pdf.ln()
        if row.category != VatCategory.STANDARD:
            stored = row.exemption_reason
            reason = (
                STORED_REASONS.get(stored, stored)
                if stored
                else CATEGORY_NOTES.get(VatCategory(row.category), "")
            )
            code = f" ({row.exemption_code})" if row.exemption_code else ""
            notes.append(f"{row.category}: {reason}{code}")
    if any(row.category == VatCategory.REVERSE_CHARGE for row in vat_lines):
        buyer_vat = invoice.buyer_details.get("vat_number", "")
        notes.append(_("Customer's VAT number: %(number)s") % {"number": buyer_vat})
    pdf.ln(2)
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    for label, amount, bold in [
        (_("Total excl. VAT"), invoice.total_excl_vat, False),
        (_("VAT"), invoice.total_vat, False),
        (_("Total credited") if credit else _("Total to pay"), invoice.total_incl_vat, True),
    ]:
        pdf.set_x(pdf.l_margin + widths[0])
        pdf.set_font(FONT, "B" if bold else "", 10 if bold else 9)
        pdf.cell(widths[1], 6.5, label)
        pdf.cell(
            widths[2],
            6.5,
            formatting.money(amount, currency),
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if notes:
        pdf.ln(2)
        pdf.set_font(FONT, "", 8)
        for note in notes:
            pdf.multi_cell(0, 4.5, note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _payment(pdf: InvoiceDocument, invoice: Invoice) -> None:
    seller = invoice.seller
    if pdf.will_page_break(45):
        pdf.add_page()
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 7, _("Payment"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        corrected = invoice.credits.number if invoice.credits is not None else ""
        pdf.multi_cell(
            0,
            5,
            _(
                "Nothing to pay: this credit note reduces what invoice %(number)s asks by "
                "%(amount)s."
            )
            % {
                "number": corrected,
                "amount": formatting.money(invoice.total_incl_vat, invoice.currency),
            },
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(1)
        _label_rows(pdf, [(_("Reference"), invoice.payment_reference)])
        return
    pdf.multi_cell(
        0,
        5,
        _(
            "Please transfer %(amount)s by %(due)s (SEPA credit transfer), quoting the payment "
            "reference exactly as it is written, so that the payment is matched to this invoice."
        )
        % {
            "amount": formatting.money(invoice.total_incl_vat, invoice.currency),
            "due": long_date(invoice.due_date),
        },
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(1)
    rows = [
        (_("Account holder"), seller.get("name", "")),
        ("IBAN", _grouped(seller.get("iban", ""))),
    ]
    if seller.get("bic"):
        rows.append(("BIC", seller["bic"]))
    rows.append((_("Payment reference"), invoice.payment_reference))
    _label_rows(pdf, rows)


def _grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def invoice_pdf_plain(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    vat_lines: Sequence[InvoiceVat],
) -> bytes:
    """The PDF/A-3 pages, without the e-invoice, in the active language."""
    pdf = InvoiceDocument(invoice)
    pdf.add_page()
    _parties(pdf, invoice)
    _lines(pdf, invoice, lines)
    _vat_and_totals(pdf, invoice, vat_lines)
    _payment(pdf, invoice)
    pdf.ln(4)
    pdf.set_font(FONT, "", 7.5)
    pdf.set_text_color(90)
    pdf.multi_cell(
        0,
        4,
        _(
            "This PDF carries its EN 16931 e-invoice (Factur-X, CII XML) as an embedded file "
            "for your accounting system."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF/A-3 with its e-invoice embedded (Factur-X, EN 16931): the pages
    in the buyer organisation's default language whoever renders them (the worker, or an
    admin's download in any language); the e-invoice in the same language as its lines,
    which the invoice run wrote in it (evdms/invoicing/services/run.py): one document,
    whoever renders it."""
    lines = list(invoice.lines.all())
    vat_lines = list(invoice.vat_lines.all())
    language = pdf_language(invoice)
    with translation.override(language):
        xml = invoice_xml(invoice, lines, vat_lines)
        plain = invoice_pdf_plain(invoice, lines, vat_lines)
        title = f"{title_of(invoice)} {invoice.number}"
        subject = _("%(title)s of %(date)s, %(buyer)s") % {
            "title": title,
            "date": long_date(invoice.issue_date),
            "buyer": invoice.buyer_details.get("name", ""),
        }
    return bytes(
        facturx.generate_from_binary(
            plain,
            xml,
            flavor="factur-x",
            level="en16931",
            # invoice_xml checked it against the same XSD already.
            check_xsd=False,
            pdf_metadata={
                "author": invoice.seller.get("name", ""),
                "keywords": "Factur-X, Invoice",
                "title": title,
                "subject": subject,
            },
            lang=_language_tag(language),
        )
    )
